// Words of a product, for the search index.
export function words(product) {
  return `${product.name} ${product.description}`.toLowerCase().split(/\W+/).filter(Boolean);
}
