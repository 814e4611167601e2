/**
 * The owner's settings as the API takes them (`PUT /api/me/settings` and the
 * admin's `PUT /api/admin/users/:id/settings`): exactly these four fields,
 * each problem named by its field.
 */
import { z } from "zod";
import { isTimeZone } from "../format.ts";
import { WEEKDAYS } from "../types.ts";
import type { OwnerSettings } from "../types.ts";

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const clock = (what: string) =>
  z.string().regex(
    HHMM,
    `must be a time of day "HH:MM" from 00:00 to 23:59 (${what})`,
  );

export const MaintenanceWindowSchema = z.strictObject({
  days: z.array(
    z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(", ")}` }),
  ).min(1, "pick at least one day").max(7).refine(
    (days) => new Set(days).size === days.length,
    "names a day twice",
  ),
  startHour: z.int("must be a whole hour from 0 to 23").min(
    0,
    "must be a whole hour from 0 to 23",
  ).max(23, "must be a whole hour from 0 to 23"),
  lengthHours: z.int("must be a whole number of hours from 1 to 8").min(
    1,
    "must be from 1 to 8 hours",
  ).max(8, "must be from 1 to 8 hours"),
});

export const QuietHoursSchema = z.strictObject({
  start: clock("when quiet hours start"),
  end: clock("when quiet hours end"),
}).refine((q) => q.start !== q.end, {
  message: "start and end must differ",
  path: ["end"],
});

export const OwnerSettingsSchema: z.ZodType<OwnerSettings> = z.strictObject({
  timeZone: z.string().trim().max(64).refine(
    isTimeZone,
    "must be an IANA time zone, e.g. Europe/Berlin",
  ).nullable(),
  maintenanceWindow: MaintenanceWindowSchema.nullable(),
  channels: z.strictObject({
    email: z.boolean("must be true or false"),
    mobile_push: z.boolean("must be true or false"),
  }),
  quietHours: QuietHoursSchema.nullable(),
}).meta({ id: "OwnerSettings" });
