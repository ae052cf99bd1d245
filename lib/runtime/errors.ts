/** One readable line for any thrown value, for logs and reports (`name: message`). */
export function errorLine(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
