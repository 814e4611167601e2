/**
 * A sent email without its "Add to calendar" link: the link is signed for the
 * scheduled target, which does not exist yet when the review renders the
 * same email, so the review shows everything else exactly.
 */
export function withoutCalendarLink(body: string): string {
  return body
    .replace(
      /<p style="margin:8px 0;"><a href="[^"]*\.ics">Add to calendar<\/a><\/p>/,
      "",
    )
    .replace(/\nAdd to calendar: \S+\.ics$/, "");
}
