// The tools module of pr-merged.yaml (`npx troupe run pr-merged`, `npx troupe serve pr-merged`,
// `npx troupe coordinator compare`): the real services when PR_MERGED_GITHUB_URL and
// PR_MERGED_CHAT_URL say where they are (tokens in GITHUB_TOKEN and SLACK_TOKEN), otherwise a
// fixture service started here on 127.0.0.1, fresh each time so one run's reactions never leak
// into the next.
import { type ApiEndpoints, chatTools } from './chat-tools.js';
import { startFixtureService } from './fixture-service.js';

let announced = false;

export default async function tools() {
  return chatTools(await endpoints());
}

async function endpoints(env = process.env): Promise<ApiEndpoints> {
  const github = env.PR_MERGED_GITHUB_URL?.trim();
  const chat = env.PR_MERGED_CHAT_URL?.trim();
  // Tokens go only to services named here, never to the fixture.
  const githubToken = github && env.GITHUB_TOKEN ? { githubToken: env.GITHUB_TOKEN } : {};
  const chatToken = chat && env.SLACK_TOKEN ? { chatToken: env.SLACK_TOKEN } : {};
  if (github && chat) return { github, chat, ...githubToken, ...chatToken };
  // Unref'd: a one-shot run exits when it is done, without closing it.
  const fixture = await startFixtureService({ unref: true });
  if (!announced)
    process.stderr.write(
      `[pr-merged] the fixture code host and chat service are at ${fixture.url} (PR_MERGED_GITHUB_URL and PR_MERGED_CHAT_URL name others)\n`,
    );
  announced = true;
  return { github: github || fixture.url, chat: chat || fixture.url, ...githubToken, ...chatToken };
}
