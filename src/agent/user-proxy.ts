import { createInterface } from 'node:readline/promises';
import { z } from 'zod';
import type { ModelClient } from '../model/model-client.js';
import { Agent, type ExitResult } from './agent.js';
import type { TerminationCondition } from './termination.js';

/** What a UserProxy says after looking at the assistant's latest work. */
export type ProxyDecision = { kind: 'reply'; message: string } | { kind: 'accept'; summary: string } | { kind: 'fail'; reason: string };

/** A person answering on behalf of the UserProxy (AutoGen's human input mode). */
export interface HumanInput {
  ask(prompt: string): Promise<string>;
}

export interface UserProxyOptions {
  name?: string;
  /** What the user wants. Only the proxy knows it; the assistant learns what the proxy tells it. */
  goal: string;
  /** Extra guidance on how to review (standards, what to insist on). */
  instructions?: string;
  model?: string | ModelClient;
  /** When given, a person decides each turn instead of the model, with the same interface. */
  humanInput?: HumanInput;
  termination?: TerminationCondition;
  maxFinishAttempts?: number;
}

const exits = {
  reply: { description: 'Send the assistant a follow-up request: what is missing or wrong, specifically.', output: z.object({ message: z.string().min(1) }) },
  accept: { description: 'The goal is fully met: end the conversation.', output: z.object({ summary: z.string().min(1).describe('What was achieved') }) },
  fail: { description: 'The goal cannot be met: end the conversation.', output: z.object({ reason: z.string().min(1) }) },
};

/**
 * Stands in for the user: knows the goal, has no tools, reviews the Assistant's work, steers it
 * with follow-up requests, and declares the goal met or failed through its own finish tools. With
 * `humanInput` a person takes each turn instead of the model.
 */
export class UserProxy {
  readonly name: string;
  readonly goal: string;
  readonly description: string;
  /** The model-driven reviewer (also used when a person answers, for its name and description). */
  readonly agent: Agent<ExitResult<typeof exits>>;
  readonly humanInput: HumanInput | undefined;

  constructor(options: UserProxyOptions) {
    this.name = options.name ?? 'user_proxy';
    this.goal = options.goal;
    this.description = `Stands in for the user; knows the goal: ${options.goal}`;
    this.humanInput = options.humanInput;
    const instructions = [
      `You stand in for a user who wants this:\n\n${options.goal}`,
      'You work with an assistant who does the work. You have no tools. Write the first request, then review each answer against the goal.',
      'Insist on everything the goal asks for. When something is missing or wrong, reply with specific follow-up requests. Accept only when the goal is fully met; fail only when it cannot be met.',
      options.instructions ?? '',
    ]
      .filter(Boolean)
      .join('\n\n');
    const agentOptions: ConstructorParameters<typeof Agent<ExitResult<typeof exits>>>[0] = {
      name: this.name,
      description: this.description,
      instructions,
      exits,
    };
    if (options.model !== undefined) agentOptions.model = options.model;
    if (options.termination !== undefined) agentOptions.termination = options.termination;
    if (options.maxFinishAttempts !== undefined) agentOptions.maxFinishAttempts = options.maxFinishAttempts;
    this.agent = new Agent(agentOptions);
  }

  /** What the proxy is shown: nothing yet (write the first request), or the assistant's latest answer. */
  prompt(latest: string | undefined): string {
    if (latest === undefined) return 'Write your first request to the assistant (call reply).';
    return `The assistant answered:\n\n${latest}\n\nReview it against the goal: accept, fail, or reply with follow-up requests.`;
  }

  /** A person's turn: they reply in words, or type `/accept <summary>` or `/fail <reason>`. */
  async askHuman(latest: string | undefined): Promise<ProxyDecision> {
    const answer = (
      await this.humanInput!.ask(
        `${this.prompt(latest).replace(/\(call reply\)|accept, fail, or reply with follow-up requests\./, 'Type a request, /accept <summary> or /fail <reason>.')}\n> `,
      )
    ).trim();
    if (/^\/accept\b/i.test(answer)) return { kind: 'accept', summary: answer.replace(/^\/accept\s*/i, '') || 'accepted' };
    if (/^\/fail\b/i.test(answer)) return { kind: 'fail', reason: answer.replace(/^\/fail\s*/i, '') || 'failed' };
    return { kind: 'reply', message: answer };
  }

  static decision(result: ExitResult<typeof exits>): ProxyDecision {
    switch (result.exit) {
      case 'reply':
        return { kind: 'reply', message: result.value.message };
      case 'accept':
        return { kind: 'accept', summary: result.value.summary };
      case 'fail':
        return { kind: 'fail', reason: result.value.reason };
    }
  }
}

/** Human input from a terminal (or any pair of streams). */
export function terminalHumanInput(streams: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {}): HumanInput & { close(): void } {
  const lines = createInterface({ input: streams.input ?? process.stdin, output: streams.output ?? process.stdout, terminal: false });
  return {
    ask: (prompt) => lines.question(prompt),
    close: () => lines.close(),
  };
}
