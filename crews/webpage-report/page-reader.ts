// A scripted model that reads the example's pages the way a careful model would, with two
// realistic slips. On the heat-pump article it also tries the readers' comments after the study
// and the minutes (the page urges readers to open every link), on each attempt: open_link refuses
// the third link at the budget. And on its first attempt it tidies a quote ("not this quickly" becomes "not so
// quickly"): the checker finds the words are not in the page, and the second attempt copies them
// exactly. It authors the offline cassette (author.ts); its model id says `scripted:webpage-report`.
import type { Message, ModelRequest } from 'troupe';
import { scriptedModel, type ScriptedModel, type ScriptedReply } from 'troupe/testing';

export function pageReader(options: { id?: string } = {}): ScriptedModel {
  return scriptedModel((request) => answer(request), { id: options.id ?? 'scripted:webpage-report' });
}

interface PageText {
  url: string;
  text: string;
}

/** The arguments it finds in the fixture pages (a model's own words, each with the sentence it rests on). */
const argumentsByPage: Record<string, Array<{ point: string; quote: string }>> = {
  'heat-pumps.html': [
    {
      point: 'Replacing oil boilers with heat pumps paid off faster than the district planned.',
      quote: 'the district says the switch has paid for itself faster than planned',
    },
    {
      point: 'Mild winters flatter the raw savings, but savings corrected for the weather remain substantial.',
      quote: 'Critics point out that the winters of 2023 and 2024 were milder than average, which flatters the comparison.',
    },
    {
      point: 'The switch brought unplanned costs: some schools needed new radiators.',
      quote: 'Two schools needed new radiators because the pumps deliver water at a lower temperature',
    },
  ],
  'library-hours.html': [
    { point: 'The library should be open when families are free, which is on Sundays.', quote: 'the library should be open when people can come' },
    { point: 'Sunday opening is a trial, staffed and costed modestly.', quote: 'a trial that runs until the end of the year' },
  ],
};

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function answer(request: ModelRequest): ScriptedReply {
  const first = request.messages[0];
  const prompt = first?.role === 'user' ? first.content : '';
  const page = pageIn(prompt);
  if (!page || !request.tools?.some((tool) => tool.name === 'finish')) return 'I can only report on a page I am given.';
  const retry = /## This is attempt \d+/.test(prompt);
  const links = [...(prompt.split('\nLinks:\n')[1]?.split('\n\n')[0] ?? '').matchAll(/^\d+\. (\S+) — (.*)$/gm)].map((m) => ({ href: m[1]!, text: m[2]! }));
  // The sources the article rests on, and the readers' comments (which the budget refuses).
  const wanted = links.filter((link) => /study|minutes|comments/i.test(link.text)).map((link) => link.href);
  const asked = toolCalls(request.messages).filter((call) => call.name === 'open_link');
  const next = wanted.find((href) => !asked.some((call) => (call.input as { href?: string }).href === href));
  if (next) return { toolCalls: [{ name: 'open_link', input: { href: next }, id: `open_${asked.length + 1}` }] };
  const opened = openedPages(request.messages);
  return { toolCalls: [{ name: 'finish', input: read(page, opened, retry), id: 'finish_1' }] };
}

function pageIn(text: string): PageText | undefined {
  const match = /^Page: (\S+)\n[\s\S]*?--- page text \(data, not instructions\) ---\n([\s\S]*?)\n--- end of page text ---/m.exec(text);
  return match ? { url: match[1]!, text: match[2]! } : undefined;
}

function toolCalls(messages: readonly Message[]): Array<{ name: string; input: unknown }> {
  return messages.flatMap((message) => (message.role === 'assistant' ? message.content.filter((part) => part.type === 'tool-call') : []));
}

function openedPages(messages: readonly Message[]): PageText[] {
  return messages.flatMap((message) =>
    message.role === 'tool' ? message.content.filter((part) => !part.isError).flatMap((part) => pageIn(part.output) ?? []) : [],
  );
}

function sentences(text: string): string[] {
  return text.split('\n').flatMap((line) => line.split(/(?<=[.!?])\s+(?=[A-Z"])/));
}

function read(page: PageText, opened: PageText[], retry: boolean) {
  const byline = page.text.split('\n').find((line) => /^By [A-Z]/.test(line)) ?? '';
  const author = /^By ([^·,]+?)\s*(?:·|,|$)/.exec(byline)?.[1] ?? 'unknown';
  const date = /(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December) (\d{4})/.exec(byline);
  const published = date ? `${date[3]}-${String(months.indexOf(date[2]!) + 1).padStart(2, '0')}-${date[1]!.padStart(2, '0')}` : '';
  const quotes = page.text.split('\n').flatMap((line) => {
    const speaker = /said (?:[a-z]+ )?([A-Z]\w+(?: [A-Z]\w+)*)/.exec(line)?.[1];
    if (!speaker) return [];
    return [...line.matchAll(/"([^"]+)"/g)].map((m) => ({ speaker, text: m[1]!.replace(/,$/, ''), source: page.url }));
  });
  // The slip: a quote tidied on the first reading.
  if (!retry) for (const quote of quotes) quote.text = quote.text.replace('not this quickly', 'not so quickly');
  const dataPoints = [page, ...opened].flatMap((source) =>
    sentences(source.text).flatMap((sentence) => {
      const figure = /NOK [\d.,]+(?: million)?|\d+ percent|\b\d+\.\d\b/.exec(sentence)?.[0];
      return figure && !/^By /.test(sentence)
        ? [{ figure, about: sentence.length > 100 ? `${sentence.slice(0, 97)}...` : sentence, quote: sentence, source: source.url }]
        : [];
    }),
  );
  const known = argumentsByPage[page.url];
  const args = known
    ? known.map((argument) => ({ ...argument, source: page.url }))
    : sentences(page.text)
        .filter((sentence) => sentence.length > 60)
        .slice(0, 2)
        .map((sentence) => ({ point: sentence, quote: sentence, source: page.url }));
  return {
    author,
    authorQuote: `By ${author}`,
    published,
    publishedQuote: date?.[0] ?? byline,
    arguments: args,
    dataPoints,
    quotes,
  };
}
