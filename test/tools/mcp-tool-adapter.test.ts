import { describe, expect, it, vi } from 'vitest';

import { manualClock } from 'troupe/testing';
import { inputValidator, mcpResultText, mcpToolName, mcpToolToTool, type McpCall, type McpToolSettings } from '../../src/tools/mcp-tool-adapter.js';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { ToolSet } from '../../src/tools/tool-set.js';

const settings: McpToolSettings = { server: 'files', prefix: undefined, timeoutMs: 5_000, sideEffects: undefined, needsApproval: false };

describe('mcpToolName', () => {
  it('keeps valid names, joins a prefix with "_" and replaces characters models reject', () => {
    expect(mcpToolName('read_file')).toBe('read_file');
    expect(mcpToolName('read_file', 'fs')).toBe('fs_read_file');
    expect(mcpToolName('files.read/v2', 'my-fs')).toBe('my-fs_files_read_v2');
  });

  it('cuts long names to 64 characters, keeping two names with the same start apart', () => {
    const first = mcpToolName(`${'x'.repeat(70)}_one`, 'server');
    const second = mcpToolName(`${'x'.repeat(70)}_two`, 'server');
    expect(first).toHaveLength(64);
    expect(first).toMatch(/^[a-zA-Z0-9_-]{64}$/);
    expect(first).not.toBe(second);
    expect(mcpToolName(`${'x'.repeat(70)}_one`, 'server')).toBe(first);
  });
});

describe('inputValidator', () => {
  it('converts the JSON Schema, including draft-07 definitions and closed objects', () => {
    const { schema, converted } = inputValidator({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { point: { $ref: '#/definitions/point' } },
      required: ['point'],
      additionalProperties: false,
      definitions: { point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
    });
    expect(converted).toBe(true);
    expect(schema.safeParse({ point: { x: 1 } }).success).toBe(true);
    expect(schema.safeParse({ point: { x: 'one' } }).error?.issues[0]?.path).toEqual(['point', 'x']);
    expect(schema.safeParse({ point: { x: 1 }, extra: true }).success).toBe(false);
  });

  it('falls back to checking for an object when zod cannot express the schema', () => {
    const { schema, converted } = inputValidator({ type: 'object', if: { required: ['a'] }, then: { required: ['b'] } });
    expect(converted).toBe(false);
    expect(schema.safeParse({ anything: 1 })).toEqual({ success: true, data: { anything: 1 } });
    expect(schema.safeParse('text').success).toBe(false);
  });
});

describe('mcpToolToTool', () => {
  it('keeps the server schema for the model and checks arguments before calling', async () => {
    const call = vi.fn<McpCall>(async (name, input) => ({ content: [{ type: 'text', text: `${name} ${JSON.stringify(input)}` }] }));
    const tool = mcpToolToTool(
      {
        name: 'search.files',
        inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
        annotations: { title: 'Search files' },
      },
      { ...settings, prefix: 'fs', needsApproval: true, sideEffects: 'read' },
      call,
    );
    expect(tool).toMatchObject({
      name: 'fs_search_files',
      mcpName: 'search.files',
      description: 'Search files',
      timeoutMs: 5_000,
      needsApproval: true,
      sideEffects: 'read',
    });
    expect(tool.spec.inputSchema).toEqual({ type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });

    const tools = new ToolSet([tool]);
    const execution = { runId: 'run_1', clock: manualClock(), approver: () => ({ approved: true }) };
    const bad = await executeToolCall({ type: 'tool-call', id: 'c1', name: 'fs_search_files', input: { q: 7 } }, tools, execution);
    expect(bad).toMatchObject({ isError: true, output: expect.stringMatching(/^Invalid arguments for "fs_search_files": q: /) });
    expect(call).not.toHaveBeenCalled();

    const good = await executeToolCall({ type: 'tool-call', id: 'c2', name: 'fs_search_files', input: { q: 'todo' } }, tools, execution);
    expect(good.output).toBe('search.files {"q":"todo"}');
    expect(call).toHaveBeenCalledWith('search.files', { q: 'todo' }, expect.objectContaining({ callId: 'c2', signal: expect.any(AbortSignal) }));
  });

  it('describes a tool without a description, and treats tools not marked read-only as external', () => {
    const tool = mcpToolToTool({ name: 'poke', inputSchema: { type: 'object' } }, settings, vi.fn());
    expect(tool.description).toBe('Tool "poke" of the MCP server "files".');
    expect(tool.sideEffects).toBe('external');
  });
});

describe('mcpResultText', () => {
  it('joins text and summarises images, audio, resources and links', () => {
    expect(
      mcpResultText({
        content: [
          { type: 'text', text: 'Found:' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
          { type: 'resource', resource: { uri: 'file:///notes.md', text: '# Notes' } },
          { type: 'resource', resource: { uri: 'file:///logo.png', blob: 'AAAA', mimeType: 'image/png' } },
          { type: 'resource_link', uri: 'file:///big.csv', name: 'big.csv' },
          { type: 'hologram' },
        ],
      }),
    ).toBe(
      'Found:\n[image image/png]\n[audio audio/wav]\n[resource file:///notes.md]\n# Notes\n[resource file:///logo.png image/png]\n[resource link file:///big.csv (big.csv)]\n[hologram]',
    );
  });

  it('gives structured content as JSON only when there is no text', () => {
    expect(mcpResultText({ content: [], structuredContent: { count: 2 } })).toBe('{"count":2}');
    expect(mcpResultText({ content: [{ type: 'text', text: '2 items' }], structuredContent: { count: 2 } })).toBe('2 items');
  });

  it('reads results of the old protocol', () => {
    expect(mcpResultText({ toolResult: { ok: true } })).toBe('{"ok":true}');
  });

  it('throws the text of an error result', () => {
    expect(() => mcpResultText({ content: [{ type: 'text', text: 'no such file' }], isError: true })).toThrow('no such file');
    expect(() => mcpResultText({ content: [], isError: true })).toThrow('the MCP tool reported an error without a message');
  });
});
