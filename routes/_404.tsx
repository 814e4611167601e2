import { Head } from "$fresh/runtime.ts";

export default function NotFound() {
  return (
    <>
      <Head>
        <title>Not found · KiloClaw</title>
      </Head>
      <p class="muted">Error 404</p>
      <h1>Not found</h1>
      <p>There is nothing at this address.</p>
      <p>
        <a href="/">Back to your instances</a>
      </p>
    </>
  );
}
