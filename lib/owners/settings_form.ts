/**
 * The settings page's form as the API's body: what a browser without
 * JavaScript posts is read into the same shape `OwnerSettingsSchema` checks,
 * kept as typed so a refused form is shown again as it was sent.
 */
import type { OwnerSettings, Weekday } from "../types.ts";

export function settingsFromForm(form: FormData): OwnerSettings {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  // An empty field is no number: the schema names it.
  const hour = (name: string) => text(name) === "" ? NaN : Number(text(name));
  return {
    timeZone: text("timeZone") || null,
    maintenanceWindow: text("window") === "some"
      ? {
        days: form.getAll("days").map((d) => String(d) as Weekday),
        startHour: hour("startHour"),
        lengthHours: hour("lengthHours"),
      }
      : null,
    channels: {
      email: form.has("email"),
      mobile_push: form.has("mobile_push"),
    },
    quietHours: form.has("quiet")
      ? { start: text("quietStart"), end: text("quietEnd") }
      : null,
  };
}
