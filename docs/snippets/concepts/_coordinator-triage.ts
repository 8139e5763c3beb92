// #region script
// The reviewed script that replaces the model as coordinator of coordinator-switch.ts's
// configuration: the same trigger, the same approved tools, the same files.
import type { ScriptContext } from 'troupe';

export default async function triage({ trigger, tools, files }: ScriptContext): Promise<string> {
  const { ticket } = trigger.data as { ticket: string };
  const customer = (await tools.lookup_customer!({ ticket })) as { plan: string };
  const body = await files.read('ticket.txt'); // read only now, and at most once per run
  const label = customer.plan === 'enterprise' || /outage|down/i.test(body) ? 'urgent' : 'normal';
  await tools.add_label!({ ticket, label });
  return `${ticket} labelled ${label}`;
}
// #endregion
