import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { ToolSpec } from '../model/model-client.js';
import type { Tool } from './define-tool.js';

/** Tools by name, with the specs the model sees in a stable order. Names must be unique. */
export class ToolSet {
  readonly #tools = new Map<string, Tool>();
  #specs: ToolSpec[] | undefined;

  constructor(tools: Iterable<Tool> = []) {
    for (const tool of tools) this.add(tool);
  }

  add(tool: Tool): this {
    if (this.#tools.has(tool.name)) {
      throw new ConfigurationError(`Two tools are named "${tool.name}"; tool names must be unique within an agent.`, {
        field: 'tools',
      });
    }
    this.#tools.set(tool.name, tool);
    this.#specs = undefined;
    return this;
  }

  get(name: string): Tool | undefined {
    return this.#tools.get(name);
  }

  has(name: string): boolean {
    return this.#tools.has(name);
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }

  get size(): number {
    return this.#tools.size;
  }

  get specs(): ToolSpec[] {
    return (this.#specs ??= [...this.#tools.values()].map((tool) => tool.spec));
  }

  [Symbol.iterator](): Iterator<Tool> {
    return this.#tools.values();
  }
}
