import { fail } from '../errors.js';
import { findRun, type RunRecord, type Store } from '../store/db.js';

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
  if (whole && split && whole.id !== split.id && styleNames(split).includes(style))
    fail(
      `"${ref}" names both run "${whole.name}" (#${whole.id}) and style "${style}" of run "${split.name}" (#${split.id}); give ${whole.id} or ${split.id}:${style}`,
    );
}

/**
 * The names a run's answers are stored under, in the order it was run with. `--styles` may give a style as a file
 * (prompts/x.json, /tmp/entity.json): the stored definitions carry its name; a run stored before them, its list.
 */
export function styleNames(run: RunRecord): string[] {
  const defs = run.options.style_definitions;
  if (defs && typeof defs === 'object' && !Array.isArray(defs)) return Object.keys(defs);
  return (run.options.styles as string[] | undefined) ?? [];
}
