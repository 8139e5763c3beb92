/** A JSON Schema as read from a file or made by `z.toJSONSchema`. */
type Schema = Record<string, unknown>;

/**
 * Where a value the file's schema accepts could never satisfy the schema a caller expects, as far
 * as plain JSON Schema keywords tell (types, properties, required, items): a type the two do not
 * share, or a property the caller requires that the file's schema does not have. Returns the
 * first such place in words, or undefined when nothing is known to disagree. It is a load-time
 * check for `loadCrew(path, { output })`; the crew still validates every output at run time.
 */
export function schemaMisfit(expected: Schema, declared: Schema, at = ''): string | undefined {
  const where = at ? `at "${at}"` : 'at the top';
  const wanted = typesOf(expected);
  const given = typesOf(declared);
  if (wanted && given && !given.some((type) => wanted.some((other) => fits(type, other)))) {
    return `${where}, the file's schema gives ${given.join(' or ')} where ${wanted.join(' or ')} is expected`;
  }
  const expectedProperties = record(expected.properties);
  const declaredProperties = record(declared.properties);
  if (expectedProperties && declaredProperties) {
    const required = Array.isArray(expected.required) ? (expected.required as string[]) : [];
    const declaredRequired = new Set(Array.isArray(declared.required) ? (declared.required as string[]) : []);
    for (const key of required) {
      const path = at ? `${at}.${key}` : key;
      if (!(key in declaredProperties)) return `at "${path}", an expected property is not in the file's schema`;
      if (!declaredRequired.has(key)) return `at "${path}", an expected property is optional in the file's schema`;
    }
    for (const [key, schema] of Object.entries(expectedProperties)) {
      const other = record(declaredProperties[key]);
      const inner = record(schema);
      if (other && inner) {
        const found = schemaMisfit(inner, other, at ? `${at}.${key}` : key);
        if (found) return found;
      }
    }
  }
  const expectedItems = record(expected.items);
  const declaredItems = record(declared.items);
  if (expectedItems && declaredItems) return schemaMisfit(expectedItems, declaredItems, `${at}[]`);
  return undefined;
}

function typesOf(schema: Schema): string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((type): type is string => typeof type === 'string');
  return undefined;
}

/** A value of the file's type `declared` can be of the expected type (an integer is a number). */
function fits(declared: string, expected: string): boolean {
  return declared === expected || (declared === 'integer' && expected === 'number') || (declared === 'number' && expected === 'integer');
}

function record(value: unknown): Schema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : undefined;
}
