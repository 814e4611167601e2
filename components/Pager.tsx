/** Previous / next links that keep the rest of the query string. */
export function Pager(
  { page, pages, url }: { page: number; pages: number; url: URL },
) {
  if (pages <= 1) return null;
  const href = (p: number) => {
    const u = new URL(url);
    u.searchParams.set("page", String(p));
    return u.pathname + u.search;
  };
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? <a href={href(page - 1)}>← Previous</a> : <span />}
      <span class="muted">Page {page} of {pages}</span>
      {page < pages ? <a href={href(page + 1)}>Next →</a> : <span />}
    </nav>
  );
}
