/** What a search box may hold: one line of text under the text policy (400 otherwise). */
import { BadRequestError } from "./errors.ts";
import { checkText } from "./text.ts";

export const MAX_SEARCH_LENGTH = 200;

export function searchWords(raw: string | null): string {
  const r = checkText(raw ?? "", { max: MAX_SEARCH_LENGTH });
  if (r.ok) return r.value;
  throw new BadRequestError(`invalid search: ${r.problem}`, [
    { path: "q", message: r.problem },
  ]);
}
