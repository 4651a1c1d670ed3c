import { fail } from '../errors.js';
import { findRun, type Store } from '../store/db.js';

/**
 * A RUN:STYLE reference that is also the whole name of another run is refused: reading it either way could pair or
 * tabulate a run the user did not mean, with nothing on screen to tell. The ids name each side without doubt.
 */
export function refuseAmbiguousRef(store: Store, ref: string): void {
  const at = ref.lastIndexOf(':');
  if (at <= 0 || at === ref.length - 1) return;
  const whole = findRun(store, ref);
  const split = whole && findRun(store, ref.slice(0, at));
  const style = ref.slice(at + 1);
  if (whole && split && whole.id !== split.id && (split.options.styles as string[]).includes(style))
    fail(
      `"${ref}" names both run "${whole.name}" (#${whole.id}) and style "${style}" of run "${split.name}" (#${split.id}); give ${whole.id} or ${split.id}:${style}`,
    );
}
