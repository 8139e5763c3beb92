// A tiny custom provider: a ModelClient for a vendor's HTTP API. Here the "vendor" is a server in
// this process that answers with plain text and fails its first request with a 503, so the
// program runs offline and shows the retry. Registered with registerModel, the model is named by
// a string (`scripted:<name>`) like any other: in role files, crew files and `--model`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Agent,
  ProviderRequestError,
  ProviderResponseError,
  ProviderUnavailableError,
  registerModel,
  withRetry,
  type ModelCallOptions,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
} from 'troupe';

// The stand-in vendor: POST /complete { prompt } → { text, tokens }; the first call is a 503.
let calls = 0;
const vendor = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    calls++;
    if (calls === 1) return response.writeHead(503).end('busy');
    const { prompt } = JSON.parse(body) as { prompt: string };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `You asked: ${prompt}`, tokens: 7 }));
  });
});
await new Promise<void>((listening) => vendor.listen(0, '127.0.0.1', listening));
const baseURL = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;

// #region provider
class EchoVendorModel implements ModelClient {
  readonly id = 'echo-vendor:small';
  constructor(private readonly baseURL: string) {}

  async generate(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const last = request.messages.at(-1);
    const prompt = last?.role === 'user' ? last.content : '';
    const response = await fetch(`${this.baseURL}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ system: request.system, prompt }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const raw = await response.text();
    // Vendor failures become Troupe's typed errors: these decide what withRetry retries.
    if (response.status >= 500) throw new ProviderUnavailableError('echo-vendor', `HTTP ${response.status}`, undefined, { status: response.status });
    if (!response.ok) throw new ProviderRequestError('echo-vendor', `HTTP ${response.status}: ${raw}`, { status: response.status });
    let answer: { text: string; tokens: number };
    try {
      answer = JSON.parse(raw);
    } catch {
      throw new ProviderResponseError('echo-vendor', 'the body is not JSON', raw);
    }
    // An agent ends through its finish tool: answer with a call to it when it is offered.
    const finish = request.tools?.find((tool) => tool.name === 'finish');
    return {
      content: finish ? [{ type: 'tool-call', id: `call_${calls}`, name: finish.name, input: { result: answer.text } }] : [{ type: 'text', text: answer.text }],
      stopReason: finish ? 'tool-calls' : 'end-turn',
      usage: { inputTokens: prompt.length, outputTokens: answer.tokens },
      model: this.id,
    };
  }
}

// Retries (429, 5xx, timeouts) come from withRetry, the same wrapper the built-in providers use.
registerModel('echo-vendor', withRetry(new EchoVendorModel(baseURL), { baseDelayMs: 10 }));

const agent = new Agent({ name: 'echo', instructions: 'Repeat the question.', model: 'scripted:echo-vendor' });
const result = await agent.run('Is this my own provider?');
// #endregion
console.log(result.status === 'finished' ? result.output : result.stop);
console.log(`vendor requests: ${calls} (the first answered 503 and was retried)`);
vendor.close();
