/** An instance's "Last restart" fact: when, in the viewer's zone, or the page's word for never. */
import LocalTime from "@/islands/LocalTime.tsx";

export function LastRestart(
  { at, never, timeZone, now }: {
    at: string | null;
    never: string;
    timeZone: string | null;
    now: number;
  },
) {
  return (
    <>
      <dt>Last restart</dt>
      <dd>
        {at ? <LocalTime at={at} timeZone={timeZone} now={now} /> : never}
      </dd>
    </>
  );
}
