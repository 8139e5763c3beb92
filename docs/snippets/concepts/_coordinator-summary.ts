// #region script
// A coordinator script that decides in code and asks a model only for the one step that needs
// judgment: a subagent with its own instructions, some of the approved tools and an output schema.
import { z } from 'zod';
import type { ScriptContext } from 'troupe';

export default async function summarize({ trigger, tools, subagent }: ScriptContext): Promise<string> {
  const { ticket } = trigger.data as { ticket: string };
  const { severity, reason } = await subagent({
    name: 'assessor',
    instructions: 'Read the ticket with read_file and say how severe it is.',
    input: `Ticket ${ticket} came with ticket.txt.`,
    tools: ['read_file'],
    output: z.object({ severity: z.enum(['low', 'high']), reason: z.string() }),
  });
  // The decision stays in code: the model's claim is one input to it.
  if (severity === 'high') await tools.add_label!({ ticket, label: 'urgent' });
  return `${ticket}: ${severity} (${reason})`;
}
// #endregion
