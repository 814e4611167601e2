/**
 * The settings page in Chromium, from Kolkata: the zone comes prefilled from
 * the browser, a window with no day is refused beside its field, then
 * Tuesday 02:00 for 3 h, push quiet hours and email off are saved, and a
 * reload shows them as stored; without JavaScript the form posts and is
 * checked by the page. axe finds nothing at 1280 and 375 px.
 */
import assert from "node:assert/strict";
import {
  expectAccessible,
  expectAccessibleWithoutScripts,
  fleet,
  hydrated,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { getOwnerSettings } from "@/lib/owners/settings.ts";

Deno.test({
  name:
    "browser: an owner in Kolkata sets a Tuesday 02:00 window for 3 h and quiet hours, saves, reloads; 1280 and 375 px; axe",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    // Tom has stored no zone yet: the page offers the browser's.
    const owner = f.tom;
    await withBrowser(f.app, async (origin, browser) => {
      for (const width of [1280, 375]) {
        const ctx = await signedIn(browser, origin, owner.cookie, {
          timezoneId: "Asia/Kolkata",
          width,
        });
        const page = await ctx.newPage();
        const errors = watch(page);
        await page.goto(`${origin}/`);
        await page.getByRole("link", { name: "Settings" }).click();
        await page.waitForURL(`${origin}/settings`);
        await hydrated(page);
        const zone = page.getByLabel("Time zone");
        if (width === 1280) {
          assert.equal(await zone.inputValue(), "Asia/Kolkata");
          await page.getByText("Taken from your browser: save to keep it.")
            .waitFor();
          await expectAccessible(page, `settings, fresh, at ${width}`);

          // A window with no day: said beside the field, nothing saved.
          await page.getByLabel("In a window I choose").check();
          await page.getByRole("button", { name: "Save settings" }).click();
          const alert = page.getByRole("alert");
          await alert.waitFor();
          assert.match(await alert.innerText(), /Days: pick at least one day/);
          await expectAccessible(page, `settings with a problem at ${width}`);
          assert.equal(
            (await getOwnerSettings(f.app.kv, owner.user.id)).timeZone,
            null,
          );

          await page.getByLabel("Tuesday").check();
          await page.getByLabel("Starts at").selectOption({ label: "02:00" });
          await page.getByLabel("Length").selectOption({ label: "3 hours" });
          await page.getByLabel("By email").uncheck();
          await page.getByLabel("Hold push warnings during quiet hours")
            .check();
          await page.getByLabel("Quiet from").fill("22:30");
          await page.getByLabel("Quiet until").fill("06:45");
          await page.getByRole("button", { name: "Save settings" }).click();
          await page.getByText("Settings saved.").waitFor();
          assert.equal(await page.getByRole("alert").count(), 0);
        }

        await page.reload();
        await hydrated(page);
        assert.equal(await zone.inputValue(), "Asia/Kolkata");
        assert.equal(
          await page.getByText("Taken from your browser").count(),
          0,
        );
        assert.ok(await page.getByLabel("In a window I choose").isChecked());
        assert.ok(await page.getByLabel("Tuesday").isChecked());
        assert.ok(!(await page.getByLabel("Monday").isChecked()));
        assert.equal(await page.getByLabel("Starts at").inputValue(), "2");
        assert.equal(await page.getByLabel("Length").inputValue(), "3");
        assert.ok(!(await page.getByLabel("By email").isChecked()));
        assert.ok(await page.getByLabel("By push notification").isChecked());
        assert.equal(await page.getByLabel("Quiet from").inputValue(), "22:30");
        assert.equal(
          await page.getByLabel("Quiet until").inputValue(),
          "06:45",
        );
        await expectAccessible(page, `settings, saved, at ${width}`);
        // Nothing reaches past the screen's width.
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth > globalThis.innerWidth
        );
        assert.equal(overflow, false, `wider than ${width} px`);
        assert.deepEqual(errors, []);
        await ctx.close();
      }
      assert.deepEqual(await getOwnerSettings(f.app.kv, owner.user.id), {
        timeZone: "Asia/Kolkata",
        maintenanceWindow: { days: ["tue"], startHour: 2, lengthHours: 3 },
        channels: { email: false, mobile_push: true },
        quietHours: { start: "22:30", end: "06:45" },
      });

      // Without JavaScript the same form posts to the page: a problem comes
      // back beside its field with what was typed, a good form is saved.
      const ctx = await signedIn(browser, origin, owner.cookie, {
        timezoneId: "Asia/Kolkata",
        width: 375,
        javaScriptEnabled: false,
      });
      const page = await ctx.newPage();
      await page.goto(`${origin}/settings`);
      await page.getByLabel("Quiet until").fill("22:30");
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.getByRole("alert").waitFor();
      assert.match(
        await page.getByRole("alert").innerText(),
        /Quiet until: start and end must differ/,
      );
      assert.equal(await page.getByLabel("Quiet until").inputValue(), "22:30");
      await expectAccessibleWithoutScripts(
        browser,
        origin,
        await page.content(),
        "settings refused without JavaScript",
      );
      await page.getByLabel("Quiet until").fill("07:00");
      await page.getByLabel("Starts at").selectOption({ label: "04:00" });
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.waitForURL(`${origin}/settings?saved`);
      await page.getByText("Settings saved.").waitFor();
      await expectAccessibleWithoutScripts(
        browser,
        origin,
        await page.content(),
        "settings saved without JavaScript",
      );
      await ctx.close();
      assert.deepEqual(await getOwnerSettings(f.app.kv, owner.user.id), {
        timeZone: "Asia/Kolkata",
        maintenanceWindow: { days: ["tue"], startHour: 4, lengthHours: 3 },
        channels: { email: false, mobile_push: true },
        quietHours: { start: "22:30", end: "07:00" },
      });
    });
  },
});
