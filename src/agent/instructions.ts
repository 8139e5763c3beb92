/** Who an agent is: a plain system message, or CrewAI's role, goal and backstory. */
export interface Persona {
  instructions?: string;
  role?: string;
  goal?: string;
  backstory?: string;
}

/** The system message an agent runs with: its persona, then how to end its work. */
export function systemMessage(name: string, persona: Persona, finishTools: string): string {
  const lines: string[] = [];
  if (persona.instructions) lines.push(persona.instructions.trim());
  else {
    lines.push(`You are ${persona.role ?? name}.`);
    if (persona.goal) lines.push(`Your goal: ${persona.goal.trim()}`);
    if (persona.backstory) lines.push(persona.backstory.trim());
  }
  lines.push(
    `When the work is done, call ${finishTools} with the result as its arguments. That is the only way to end; a plain text answer does not end the work.`,
  );
  return lines.join('\n\n');
}
