/**
 * A value built on its first use, then kept. For zod schemas of files and records: each costs
 * about a millisecond to build, and a program that never reads a role, crew, configuration or
 * cassette file should not pay for them when it imports Troupe (bench/import.ts).
 */
export function lazy<T>(build: () => T): () => T {
  let value: { built: T } | undefined;
  return () => (value ??= { built: build() }).built;
}
