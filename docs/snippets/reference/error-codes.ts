// Every error Troupe throws on purpose is a TroupeError: switch on its stable `code`, read who is
// at fault and the exit code the `troupe` command would end with.
// #region catch
import { defaultModel, isTroupeError, resolveModel } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

async function explain(attempt: () => unknown): Promise<void> {
  try {
    await attempt();
  } catch (error) {
    if (!isTroupeError(error)) throw error;
    console.log(`${error.code} (${error.name}): fault ${error.fault}, exit code ${error.exitCode}, retryable ${error.retryable}`);
    console.log(`  ${error.message}`);
  }
}

// A model string without its provider ("anthropic:" and the like).
await explain(() => resolveModel(defaultModel.slice(defaultModel.indexOf(':') + 1)));

// A scripted model asked for more replies than it has.
const model = scriptedModel([reply.text('The only answer.')]);
await explain(async () => {
  await model.generate({ messages: [{ role: 'user', content: 'First question' }] });
  await model.generate({ messages: [{ role: 'user', content: 'Second question' }] });
});
// #endregion
