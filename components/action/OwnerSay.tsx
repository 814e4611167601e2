/** The action page's account of the owners' say: window times, postpones and to when. */
import type { OwnerSay, StageTime } from "@/lib/owners/owner_say.ts";
import { formatDateTime } from "@/lib/format.ts";

function Times(
  { times, zone }: { times: StageTime[]; zone: string | null },
) {
  return (
    <ul class="compact-list">
      {times.map((t) => (
        <li>
          <time dateTime={t.at}>{formatDateTime(t.at, zone)}</time>:{" "}
          {t.instances} instance{t.instances === 1 ? "" : "s"}
        </li>
      ))}
    </ul>
  );
}

export function OwnerSaySection(
  { say, timeZone }: { say: OwnerSay; timeZone: string | null },
) {
  return (
    <section aria-labelledby="owner-say-title" data-testid="owner-say">
      <h2 id="owner-say-title">Owners' say</h2>
      {say.windows && (
        <>
          <p>
            In each owner's maintenance window between{" "}
            {formatDateTime(say.windows.notBefore, timeZone)} and{" "}
            {formatDateTime(say.windows.deadline, timeZone)}:
          </p>
          <Times times={say.windows.times} zone={timeZone} />
        </>
      )}
      <p data-testid="owner-say-postponed">
        {say.mayPostpone
          ? `Owners may postpone until ${
            formatDateTime(say.mayPostpone.until, timeZone)
          }, at most ${say.mayPostpone.times} time${
            say.mayPostpone.times === 1 ? "" : "s"
          }. ${
            say.postponed.instances === 0
              ? "Nobody has postponed."
              : `${say.postponed.instances} instance${
                say.postponed.instances === 1 ? " was" : "s were"
              } postponed by their owners, to:`
          }`
          : "Urgent: owners cannot postpone it."}
      </p>
      {say.postponed.times.length > 0 && (
        <Times times={say.postponed.times} zone={timeZone} />
      )}
    </section>
  );
}
