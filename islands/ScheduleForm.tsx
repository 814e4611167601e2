/** The schedule page's form with its live review (see components/schedule/ScheduleFormBody.tsx). */
import {
  ScheduleFormBody,
  type ScheduleFormBodyProps,
} from "@/components/schedule/ScheduleFormBody.tsx";

export default function ScheduleForm(
  props: Omit<ScheduleFormBodyProps, "variant" | "onCancel">,
) {
  return <ScheduleFormBody {...props} variant="page" />;
}
