import { describe, expect, it } from 'vitest';
import { openaiModel, type OpenAIModelOptions } from '../../src/model/openai.js';
import { openaiText, startFakeOpenAI } from './fake-openai-server.js';
import { fakeVendor, hello, toolConversation, weatherTool } from './provider-contract.js';

// What only the Chat Completions wire format has; what every provider does is in providers.test.ts.

const key = 'sk-proj-test0123456789abcdefXYZ';
const fake = fakeVendor(startFakeOpenAI);

function model(options: Partial<OpenAIModelOptions> = {}) {
  return openaiModel({ model: 'gpt-test', apiKey: key, baseURL: `${fake.server.url}/v1`, env: {}, retry: false, ...options });
}

describe('OpenAIModel on the Chat Completions wire format', () => {
  it('sends a plain request as a chat.completions body, the system text as the first message', async () => {
    fake.server.reply(openaiText('Hi there.'));
    await model().generate(hello);
    const sent = fake.server.last;
    expect(sent.headers['authorization']).toBe(`Bearer ${key}`);
    expect(sent.body).toEqual({
      model: 'gpt-test',
      max_tokens: 4096,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
  });

  it('maps tools and a conversation with tool calls, results and speakers', async () => {
    fake.server.reply(openaiText('ok'));
    await model().generate(toolConversation);
    expect(fake.server.last.body).toEqual({
      model: 'gpt-test',
      max_tokens: 300,
      temperature: 0.2,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city.', parameters: weatherTool.inputSchema } }],
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?', name: 'Ada_Lovelace' },
        {
          role: 'assistant',
          name: 'planner',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: 'Error: invalid JSON' },
        { role: 'user', content: 'Also Oslo.', name: 'boss' },
      ],
    });
  });

  it('leaves out a temperature for the reasoning models that refuse it (o-series, GPT-5 but not its chat variants)', async () => {
    const sent = async (name: string) => {
      fake.server.reply(openaiText('ok', { model: name }));
      await model({ model: name }).generate({ ...hello, temperature: 0.2 });
      return fake.server.last.body.temperature;
    };
    for (const name of ['gpt-5', 'gpt-5-mini', 'gpt-5.4', 'o3', 'o4-mini', 'openai/gpt-5-nano']) expect(await sent(name), name).toBeUndefined();
    for (const name of ['gpt-4.1', 'gpt-5-chat-latest', 'gpt-5.1-chat', 'llama3.2', 'gpt-test']) expect(await sent(name), name).toBe(0.2);
  });

  it('asks for structured output with response_format json_schema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    fake.server.reply(openaiText('{"answer":4}'));
    const response = await model().generate({ ...hello, output: { name: 'result', schema } });
    expect(response.content).toEqual([{ type: 'text', text: '{"answer":4}' }]);
    expect(fake.server.last.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'result', schema } });
  });

  it('talks to an OpenAI-compatible server from OPENAI_BASE_URL without a key', async () => {
    fake.server.reply(openaiText('from llama', { model: 'llama3.2' }));
    const client = openaiModel({ model: 'llama3.2', env: { OPENAI_BASE_URL: `${fake.server.url}/v1` } });
    const response = await client.generate(hello);
    expect(response.model).toBe('llama3.2');
    expect(fake.server.last.path).toBe('/v1/chat/completions');
    // Local servers ignore the key, but the SDK must send one.
    expect(fake.server.last.headers['authorization']).toBe('Bearer not-needed');
    expect(fake.server.last.body.max_tokens).toBe(4096);
  });
});
