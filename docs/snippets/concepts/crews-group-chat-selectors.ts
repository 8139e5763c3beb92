// #region selectors
import { Agent, groupChatCrew, type SpeakerSelection } from 'troupe';
import { scriptedModel } from 'troupe/testing';

// Members that always have something new to say, so only the selector decides the order.
const member = (name: string) =>
  new Agent({
    name,
    role: name,
    model: scriptedModel((_request, index) => ({ toolCalls: [{ name: 'say', input: { message: `${name}, point ${index + 1}` } }] })),
  });

const order = async (label: string, selector: SpeakerSelection, allowedTransitions?: Record<string, string[]>) => {
  const chat = groupChatCrew({
    name: 'naming',
    agents: [member('proposer'), member('critic'), member('decider')],
    selector,
    ...(allowedTransitions ? { allowedTransitions } : {}),
    maxRounds: 5,
  });
  const result = await chat.run('Name a command-line tool.');
  console.log(`${label}: ${result.conversation.map((turn) => turn.speaker).join(' → ')} (${result.stop.kind === 'finish' ? 'finish' : result.stop.condition})`);
};

await order('round-robin', 'round-robin');
// Who may speak after whom; a member not listed as a key may be followed by anyone else.
await order('transitions', 'round-robin', { proposer: ['decider'], decider: ['critic'], critic: ['proposer'] });
// A function of { round, messages, lastSpeaker, candidates, members, input }; it returns one of the candidates.
await order('function', ({ round, candidates }) => (round === 1 ? 'proposer' : candidates.includes('critic') ? 'critic' : 'decider'));
// #endregion
