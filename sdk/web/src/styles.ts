/** The element's Shadow DOM stylesheet. Colours meet WCAG AA contrast; motion honours the user's setting. */
export const STYLES = `
:host { display: block; position: relative; max-width: 480px; font: 16px/1.4 system-ui, sans-serif; color: #111; }
:host([hidden]) { display: none; }
[hidden] { display: none !important; }
.root { display: flex; flex-direction: column; gap: 12px; }
h2 { font-size: 1.25rem; margin: 0; }
.stage { position: relative; aspect-ratio: 4 / 3; background: #1d1d1f; border-radius: 12px; overflow: hidden; }
video { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; transform: scaleX(-1); }
svg.mask { position: absolute; inset: 0; width: 100%; height: 100%; }
svg.mask .outside { fill: rgba(255, 255, 255, 0.82); transition: fill 0.15s linear; }
svg.mask .ring { fill: none; stroke: #5b5b5f; stroke-width: 4; stroke-dasharray: 10 6; }
.stage[data-hint="good"] svg.mask .ring { stroke: #0a7d32; stroke-dasharray: none; }
.stage.flash svg.mask .outside { transition: none; }
.arrow { position: absolute; top: 50%; left: 4%; transform: translateY(-50%); font-size: 3rem; color: #111;
  background: #fff; border-radius: 50%; width: 4.5rem; height: 4.5rem; display: none; align-items: center; justify-content: center; }
.arrow.on { display: flex; }
.arrow[data-dir="right"] { left: auto; right: 4%; }
.timer { position: absolute; bottom: 8px; right: 12px; background: #fff; color: #111; padding: 2px 8px; border-radius: 8px; font-variant-numeric: tabular-nums; }
.timer:empty { display: none; }
.hint { display: flex; align-items: center; gap: 8px; min-height: 2.8em; padding: 8px 12px; border-radius: 8px; background: #f1f1f4; }
.hint .icon { font-size: 1.4rem; width: 1.6rem; text-align: center; }
.hint[data-kind="ok"] { background: #e3f5e8; }
.hint[data-kind="warn"] { background: #fff3d6; }
.hint[data-kind="error"] { background: #fde4e4; }
.panel p { margin: 0 0 8px; }
.warning { border-left: 4px solid #a15c00; padding: 6px 10px; background: #fff3d6; }
.buttons { display: flex; flex-wrap: wrap; gap: 8px; }
button { font: inherit; padding: 10px 18px; border-radius: 8px; border: 2px solid #1b4fd8; background: #1b4fd8; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1b4fd8; }
button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
label.photo { display: flex; flex-direction: column; gap: 4px; }
@media (prefers-reduced-motion: reduce) {
  svg.mask .outside { transition: none; }
  * { animation: none !important; transition: none !important; }
}
`;
