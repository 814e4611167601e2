/**
 * A modal dialog on the native `<dialog>`: the rest of the page is inert
 * while it is open (focus stays inside), Escape closes it, and focus goes
 * back to what opened it. For islands; the server renders it closed.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export function Dialog(
  { id, title, open, onClose, children, wide }: {
    id: string;
    title: string;
    open: boolean;
    onClose: () => void;
    children: ComponentChildren;
    wide?: boolean;
  },
) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const closeHandler = useRef(onClose);
  closeHandler.current = onClose;

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    // The close event arrives a task after the dialog closed: by then it may
    // have been opened again, and then it is not news.
    const closed = () => {
      if (d.open) return;
      closeHandler.current();
      opener.current?.focus();
    };
    // Escape: the state follows at once, so an opener clicked before the
    // close event arrives opens the dialog again.
    const cancelled = () => closeHandler.current();
    d.addEventListener("close", closed);
    d.addEventListener("cancel", cancelled);
    return () => {
      d.removeEventListener("close", closed);
      d.removeEventListener("cancel", cancelled);
    };
  }, []);

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement as HTMLElement | null;
      d.showModal();
    } else if (!open && d.open) d.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      id={id}
      class={wide ? "dialog dialog-wide" : "dialog"}
      aria-labelledby={`${id}-title`}
    >
      <div class="dialog-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <button
          type="button"
          class="icon-button"
          aria-label="Close"
          onClick={() => {
            ref.current?.close();
            closeHandler.current();
          }}
        >
          ×
        </button>
      </div>
      {open && children}
    </dialog>
  );
}
