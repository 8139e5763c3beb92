import { afterEach, describe, expect, it, vi } from 'vitest';

describe('examples/quickstart.ts', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('runs offline on its recorded transcript and says so', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    const printed: unknown[] = [];
    vi.spyOn(console, 'log').mockImplementation((value: unknown) => void printed.push(value));
    const notices: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text: string | Uint8Array) => (notices.push(String(text)), true));

    await import('../../examples/quickstart.js');

    expect(notices.join('')).toMatch(/ANTHROPIC_API_KEY is not set: replaying the recorded transcript examples\/cassettes\/quickstart.json/);
    expect(printed).toEqual([{ orderId: 'A-1001', status: 'shipped', reply: 'Your order A-1001 has shipped with DHL and should arrive on 24 November 2026.' }]);
  });
});
