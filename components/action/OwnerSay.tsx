/**
 * The action page's account of the owners' say: window times, postpones and
 * to when, in the admin's browser zone like the rest of the page.
 */
import type { OwnerSay, StageTime } from "@/lib/owners/owner_say.ts";
import LocalTime from "@/islands/LocalTime.tsx";

function Times(
  { times, zone, now }: {
    times: StageTime[];
    zone: string | null;
    now: number;
  },
) {
  return (
    <ul class="compact-list">
      {times.map((t) => (
        <li>
          <LocalTime at={t.at} timeZone={zone} now={now} />: {t.instances}{" "}
          instance{t.instances === 1 ? "" : "s"}
        </li>
      ))}
    </ul>
  );
}

export function OwnerSaySection(
  { say, timeZone, now }: {
    say: OwnerSay;
    timeZone: string | null;
    now: number;
  },
) {
  const at = (iso: string) => (
    <LocalTime at={iso} timeZone={timeZone} now={now} />
  );
  return (
    <section aria-labelledby="owner-say-title" data-testid="owner-say">
      <h2 id="owner-say-title">Owners' say</h2>
      {say.windows && (
        <>
          <p>
            In each owner's maintenance window between{" "}
            {at(say.windows.notBefore)} and {at(say.windows.deadline)}:
          </p>
          <Times times={say.windows.times} zone={timeZone} now={now} />
        </>
      )}
      <p data-testid="owner-say-postponed">
        {say.mayPostpone
          ? (
            <>
              Owners may postpone until {at(say.mayPostpone.until)}, at most
              {" "}
              {say.mayPostpone.times}{" "}
              time{say.mayPostpone.times === 1 ? "" : "s"}.{" "}
              {say.postponed.instances === 0
                ? "Nobody has postponed."
                : `${say.postponed.instances} instance${
                  say.postponed.instances === 1 ? " was" : "s were"
                } postponed by their owners, to:`}
            </>
          )
          : "Urgent: owners cannot postpone it."}
      </p>
      {say.postponed.times.length > 0 && (
        <Times times={say.postponed.times} zone={timeZone} now={now} />
      )}
    </section>
  );
}
