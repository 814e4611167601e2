/**
 * Run before the tests: the browser tests drive Debian's Chromium, so install
 * it when it is missing (machines of this project run as root with apt).
 */
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  try {
    const { code } = await new Deno.Command(cmd, {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

if (!(await exists(CHROMIUM))) {
  console.log(
    `Chromium is not at ${CHROMIUM}: installing Debian's chromium package for the browser tests…`,
  );
  const ok = await run("apt-get", ["update", "-qq"]) &&
    await run("apt-get", ["install", "-y", "-qq", "chromium"]);
  if (!ok || !(await exists(CHROMIUM))) {
    console.error(
      "Could not install Chromium. Install it yourself (apt-get install -y chromium) " +
        "or point CHROMIUM_PATH at a Chromium binary; the browser tests need it.",
    );
    Deno.exit(1);
  }
}
