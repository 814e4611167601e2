/** The action page's filter of its instances by outcome: plain links, so it works without JavaScript. */
import { TARGET_OUTCOMES, type TargetOutcome } from "@/lib/types.ts";

const NAMES: Record<TargetOutcome, string> = {
  pending: "Pending",
  running: "Running",
  applied: "Applied",
  skipped: "Skipped",
  cancelled: "Cancelled",
  failed: "Failed",
};

/** The page's address showing `outcome` (null: every instance), from its first page. */
export function outcomeUrl(pageUrl: string, outcome: TargetOutcome | null) {
  return outcome ? `${pageUrl}?outcome=${outcome}` : pageUrl;
}

export function OutcomeFilter(
  { pageUrl, outcomes, current, total }: {
    pageUrl: string;
    outcomes: Record<TargetOutcome, number>;
    current: TargetOutcome | null;
    total: number;
  },
) {
  const link = (outcome: TargetOutcome | null, label: string, n: number) => (
    <a
      href={outcomeUrl(pageUrl, outcome)}
      aria-current={current === outcome ? "page" : undefined}
      data-outcome={outcome ?? "all"}
    >
      {label} <span class="count">{n.toLocaleString("en-US")}</span>
    </a>
  );
  return (
    <nav class="outcome-filter" aria-label="Instances by outcome">
      {link(null, "All", total)}
      {TARGET_OUTCOMES.filter((o) => outcomes[o] > 0 || o === current).map((
        o,
      ) => link(o, NAMES[o], outcomes[o]))}
    </nav>
  );
}
