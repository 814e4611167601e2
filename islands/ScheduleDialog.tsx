/**
 * "Schedule restart" and "Change version" on an instance page. Without
 * JavaScript they are links to the schedule page; here they open a dialog
 * with the same fields, "apply now" and a live review, which posts to the
 * schedule page like the full form does.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { Dialog } from "@/components/Dialog.tsx";
import {
  ScheduleFormBody,
  type ScheduleFormBodyProps,
} from "@/components/schedule/ScheduleFormBody.tsx";
import type { InstanceChoice } from "@/lib/views/form_model.ts";
import type { ActionType } from "@/lib/types.ts";

type Props =
  & Omit<
    ScheduleFormBodyProps,
    "variant" | "onCancel" | "fixedInstance" | "chosen" | "match"
  >
  & { instance: InstanceChoice };

const LABELS: Record<ActionType, string> = {
  scheduled_restart: "Schedule restart",
  version_change: "Change version",
};

export default function ScheduleDialog(props: Props) {
  const enhanced = useSignal(false);
  const open = useSignal<ActionType | null>(null);
  useEffect(() => {
    enhanced.value = true;
  }, []);
  const types: ActionType[] = ["scheduled_restart", "version_change"];
  return (
    <span class="row-inline">
      {types.map((t) =>
        enhanced.value
          ? (
            <button
              type="button"
              class="secondary"
              aria-haspopup="dialog"
              onClick={() => open.value = t}
            >
              {LABELS[t]}
            </button>
          )
          : (
            <a
              class="button secondary"
              href={`/admin/actions/new?${new URLSearchParams({
                instanceId: props.instance.id,
                type: t,
              })}`}
            >
              {LABELS[t]}
            </a>
          )
      )}
      <Dialog
        id="schedule-dialog"
        title={`${
          open.value ? LABELS[open.value] : ""
        }: ${props.instance.name}`}
        open={open.value !== null}
        onClose={() => open.value = null}
        wide
      >
        <ScheduleFormBody
          {...props}
          values={{
            ...props.values,
            actionType: open.value ?? "scheduled_restart",
          }}
          chosen={[props.instance]}
          match={null}
          fixedInstance={props.instance}
          variant="dialog"
          onCancel={() => open.value = null}
        />
      </Dialog>
    </span>
  );
}
