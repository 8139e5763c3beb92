import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError, defineTool } from 'troupe';
import { finishTool } from '../../src/tools/finish-tool.js';
import { ToolSet } from '../../src/tools/tool-set.js';

const weather = defineTool({
  name: 'get_weather',
  description: 'The weather forecast for a city.',
  input: z.object({
    city: z.string().describe('The city, e.g. "Lisbon"'),
    days: z.number().int().min(1).max(7).optional().describe('How many days ahead'),
    unit: z.enum(['c', 'f']).default('c'),
  }),
  run: ({ city }) => `sunny in ${city}`,
});

describe('defineTool', () => {
  it('gives the model the JSON Schema that zod produces', () => {
    expect(weather.spec.name).toBe('get_weather');
    expect(weather.spec.description).toBe('The weather forecast for a city.');
    const schema = weather.spec.inputSchema;
    expect(schema.type).toBe('object');
    expect(schema.$schema).toBeUndefined();
    expect(schema.required).toEqual(['city']);
    expect(schema.properties).toMatchObject({
      city: { type: 'string', description: 'The city, e.g. "Lisbon"' },
      days: { type: 'integer', minimum: 1, maximum: 7, description: 'How many days ahead' },
      unit: { type: 'string', enum: ['c', 'f'], default: 'c' },
    });
  });

  it('keeps the definition fields and freezes the tool', () => {
    expect(weather.name).toBe('get_weather');
    expect(Object.isFrozen(weather)).toBe(true);
    expect(weather.run({ city: 'Porto', unit: 'c' }, { callId: 'c1', signal: new AbortController().signal })).toBe('sunny in Porto');
  });

  it.each(['', 'has space', 'dots.not.allowed', 'x'.repeat(65), 'ümlaut'])('rejects the name %j, naming the field', (name) => {
    const define = () => defineTool({ name, description: 'd', input: z.object({}), run: () => '' });
    expect(define).toThrow(ConfigurationError);
    expect(define).toThrow(/field "name"/);
  });

  it('accepts names of 64 letters, digits, "_" and "-"', () => {
    expect(defineTool({ name: `a-_9${'x'.repeat(60)}`, description: 'd', input: z.object({}), run: () => '' }).name).toHaveLength(64);
  });

  it('requires a description, naming the field', () => {
    const define = () => defineTool({ name: 'quiet', description: '  ', input: z.object({}), run: () => '' });
    expect(define).toThrow(ConfigurationError);
    expect(define).toThrow(/field "description"/);
  });

  it.each([
    ['a string', z.string()],
    ['an array', z.array(z.string())],
    ['a union of objects', z.union([z.object({ a: z.string() }), z.object({ b: z.number() })])],
  ])('rejects %s as input schema, naming the field', (_, input) => {
    let error: unknown;
    try {
      defineTool({ name: 'bad', description: 'd', input: input as z.ZodType<unknown>, run: () => '' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).where.field).toBe('input');
    expect((error as ConfigurationError).message).toMatch(/tool "bad" input/);
    expect((error as ConfigurationError).code).toBe('configuration_invalid');
  });
});

describe('finishTool', () => {
  it('is a tool whose arguments are the result', () => {
    const finish = finishTool(z.object({ answer: z.string() }));
    expect(finish.name).toBe('finish');
    expect(finish.spec.inputSchema.required).toEqual(['answer']);
    expect(finish.sideEffects).toBe('none');
    expect(finishTool(z.object({}), { name: 'submit' }).name).toBe('submit');
  });
});

describe('ToolSet', () => {
  it('keeps tools by name with specs in insertion order, and refuses duplicates', () => {
    const other = defineTool({ name: 'other', description: 'd', input: z.object({}), run: () => '' });
    const tools = new ToolSet([weather, other]);
    expect(tools.names).toEqual(['get_weather', 'other']);
    expect(tools.specs.map((spec) => spec.name)).toEqual(['get_weather', 'other']);
    expect(tools.get('other')).toBe(other);
    expect(() => tools.add(other)).toThrow(/Two tools are named "other"/);
  });
});
