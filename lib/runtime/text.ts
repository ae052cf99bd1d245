/** `text` cut to `max` characters, ending in "..." when cut (subjects, summaries, one-line errors). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** `text` with every run of white space, newlines included, folded to one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
