// The one place pages import Preact from: `html` is htm bound to Preact's `h`, so markup
// is written as tagged templates with no build step.
import { h, render, Fragment } from "../../vendor/preact.js";
import htm from "../../vendor/htm.js";

export const html = htm.bind(h);
export { h, render, Fragment };
export {
  useState,
  useEffect,
  useRef,
  useMemo,
  useCallback,
  useReducer,
  useLayoutEffect,
} from "../../vendor/preact-hooks.js";
