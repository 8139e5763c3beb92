import { describe, expect, it } from 'vitest';
import { AnthropicModel, anthropicModel, type AnthropicModelOptions } from '../../src/model/anthropic.js';
import { ProviderAuthError } from '../../src/model/errors/provider-error.js';
import { anthropicMessage, anthropicText, startFakeAnthropic } from './fake-anthropic-server.js';
import { failure, fakeVendor, hello, toolConversation, weatherTool } from './provider-contract.js';

// What only the Messages API wire format has; what every provider does is in providers.test.ts.

const key = 'sk-ant-test-0123456789abcdef';
const fake = fakeVendor(startFakeAnthropic);

function model(options: Partial<AnthropicModelOptions> = {}) {
  return anthropicModel({ model: 'claude-test', apiKey: key, baseURL: fake.server.url, env: {}, retry: false, ...options });
}

describe('AnthropicModel on the Messages API wire format', () => {
  it('sends a plain request as a Messages API body', async () => {
    fake.server.reply(anthropicText('Hi there.'));
    await model().generate(hello);
    const sent = fake.server.last;
    expect(sent.headers['anthropic-version']).toBeTruthy();
    expect(sent.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
  });

  it('maps tools and a conversation with tool calls, results and speakers', async () => {
    fake.server.reply(anthropicText('ok'));
    await model().generate(toolConversation);
    expect(fake.server.last.body).toEqual({
      model: 'claude-test',
      max_tokens: 300,
      temperature: 0.2,
      tools: [{ name: 'get_weather', description: 'Current weather in a city.', input_schema: weatherTool.inputSchema }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} },
          ],
        },
        {
          // Tool results and the next user text share one user turn.
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C', is_error: false },
            { type: 'tool_result', tool_use_id: 'call_2', content: 'invalid JSON', is_error: true },
            { type: 'text', text: 'Also Oslo.' },
          ],
        },
      ],
    });
  });

  it('returns structured output from a forced tool as JSON text', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    fake.server.reply(anthropicMessage([{ type: 'tool_use', id: 'toolu_out', name: 'result', input: { answer: 4 } }]));
    const response = await model().generate({ ...hello, output: { name: 'result', schema } });
    expect(response.content).toEqual([{ type: 'text', text: '{"answer":4}' }]);
    expect(response.stopReason).toBe('end-turn');
    expect(fake.server.last.body.tools).toEqual([{ name: 'result', description: expect.any(String), input_schema: schema }]);
    expect(fake.server.last.body.tool_choice).toEqual({ type: 'tool', name: 'result' });
  });

  describe('on the models that refuse a forced tool choice and sampling parameters (Claude Sonnet 5.5)', () => {
    const current = () => model({ model: 'claude-sonnet-5-5' });
    const lookup = { name: 'lookup', description: 'Looks a thing up.', inputSchema: { type: 'object', properties: {} } };

    it('asks for structured output in the native JSON format, not with a forced tool', async () => {
      const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
      fake.server.reply(anthropicText('{"answer":4}'));
      const response = await current().generate({ ...hello, output: { name: 'result', schema } });
      expect(response.content).toEqual([{ type: 'text', text: '{"answer":4}' }]);
      expect(response.stopReason).toBe('end-turn');
      const body = fake.server.last.body;
      expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } });
      expect(body).not.toHaveProperty('tools');
      expect(body).not.toHaveProperty('tool_choice');
    });

    it('turns a forced tool into an instruction: only that tool is offered, with tool_choice auto', async () => {
      fake.server.reply(anthropicMessage([{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }]));
      const response = await current().generate({ ...hello, tools: [weatherTool, lookup], toolChoice: { name: 'get_weather' } });
      expect(response.content).toEqual([{ type: 'tool-call', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }]);
      const body = fake.server.last.body;
      expect(body.tool_choice).toEqual({ type: 'auto' });
      expect(body.tools).toEqual([{ name: 'get_weather', description: weatherTool.description, input_schema: weatherTool.inputSchema }]);
      expect(body.system).toBe('Be brief.\n\nAnswer by calling the get_weather tool.');

      fake.server.reply(anthropicText('ok'));
      await current().generate({ messages: hello.messages, tools: [weatherTool, lookup], toolChoice: 'required' });
      expect(fake.server.last.body.tool_choice).toEqual({ type: 'auto' });
      expect(fake.server.last.body.tools).toHaveLength(2);
      expect(fake.server.last.body.system).toBe('Answer by calling one of your tools.');
    });

    it('leaves out a temperature, which these models refuse, and keeps the choices they accept', async () => {
      fake.server.reply(anthropicText('ok'));
      await current().generate({ ...hello, tools: [weatherTool], toolChoice: 'none', temperature: 0.2 });
      expect(fake.server.last.body).not.toHaveProperty('temperature');
      expect(fake.server.last.body.tool_choice).toEqual({ type: 'none' });
      expect(fake.server.last.body.system).toBe('Be brief.');
    });
  });

  it('fails with ProviderAuthError at the first call when no key is set, even with a base URL', async () => {
    // Unlike OpenAI-compatible servers, a base URL does not stand in for the key.
    const client = new AnthropicModel({ model: 'claude-test', baseURL: fake.server.url, env: {} });
    const error = await failure(client.generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toMatch(/Set ANTHROPIC_API_KEY/);
    expect(fake.server.requests).toHaveLength(0);
  });
});
