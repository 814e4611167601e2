import assert from "node:assert/strict";
import { resendFailure } from "@/lib/channels/resend.ts";
import { outcomeOfSend } from "@/lib/channels/email.ts";

Deno.test("resend failures say whether the email may have gone out anyway", () => {
  const cases: [number | null, boolean, boolean][] = [
    // status, transient, uncertain
    [null, true, true], // no answer: the request may have been carried out
    [500, true, true],
    [503, true, true],
    [408, true, true],
    [429, true, false], // refused before sending
    [422, false, false],
    [400, false, false],
  ];
  for (const [statusCode, transient, uncertain] of cases) {
    const f = resendFailure({ name: "x", message: "y", statusCode }, {});
    assert.equal(f.transient, transient, `transient for ${statusCode}`);
    assert.equal(
      f.uncertain === true,
      uncertain,
      `uncertain for ${statusCode}`,
    );
    const o = outcomeOfSend(f);
    if (transient) {
      assert.equal(o.status, "retry");
      assert.equal(o.status === "retry" && o.uncertain === true, uncertain);
    } else {
      assert.equal(o.status, "failed");
    }
  }
});
