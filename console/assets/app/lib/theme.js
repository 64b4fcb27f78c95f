// Light or dark: the system's choice until the user picks one, then theirs (remembered in
// this browser). CSS reads `data-theme` on <html>; with none, prefers-color-scheme decides.
import { store } from "./store.js";

const KEY = "atende.theme";

function initial() {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === "light" || saved === "dark") return saved;
  } catch {
    // Storage refused: follow the system.
  }
  return "system";
}

export const theme = store(initial());

function apply(choice) {
  const root = document.documentElement;
  if (choice === "system") delete root.dataset.theme;
  else root.dataset.theme = choice;
}
apply(theme.get());

/// The theme actually shown now.
export function effectiveTheme() {
  const choice = theme.get();
  if (choice !== "system") return choice;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function setTheme(choice) {
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Not remembered, but still switched.
  }
  apply(choice);
  theme.set(choice);
}

/// Switches to the other of light and dark from what is shown now.
export function toggleTheme() {
  setTheme(effectiveTheme() === "dark" ? "light" : "dark");
}
