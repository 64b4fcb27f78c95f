#!/usr/bin/env bash
# Copies the browser libraries pinned in package.json + package-lock.json into the console's
# assets (ES modules, their licenses), and axe-core (tests only, never served) into
# test-vendor/. Run after changing a version; commit the result. Node is needed only here.
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp package.json "$work/"
[ -f package-lock.json ] && cp package-lock.json "$work/"
if [ -f package-lock.json ]; then
    (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --silent)
else
    (cd "$work" && npm install --ignore-scripts --no-audit --no-fund --silent)
    cp "$work/package-lock.json" .
fi
m="$work/node_modules"
out=assets/vendor
rm -rf "$out" test-vendor
mkdir -p "$out" test-vendor

# Source-map comments point at files we do not ship; browsers would ask for them.
strip_maps() { sed -e '/^\/\/# sourceMappingURL=/d' -e 's#//\# sourceMappingURL=[^ ]*$##'; }
# Bare specifiers need an import map, and an import map is an inline script, which the
# console's CSP forbids: point the hooks at the vendored file instead.
strip_maps < "$m/preact/dist/preact.mjs" > "$out/preact.js"
strip_maps < "$m/preact/hooks/dist/hooks.mjs" \
    | sed -e 's#from"preact"#from"./preact.js"#g' -e "s#from'preact'#from'./preact.js'#g" -e 's#from "preact"#from "./preact.js"#g' \
    > "$out/preact-hooks.js"
strip_maps < "$m/htm/dist/htm.module.js" > "$out/htm.js"
# uPlot ships its minified build only as an IIFE (`var uPlot=...`); exporting that binding
# makes it a module at a third of the size of the unminified ES build.
{ strip_maps < "$m/uplot/dist/uPlot.iife.min.js"; printf '\nexport default uPlot;\n'; } > "$out/uplot.js"
cp "$m/uplot/dist/uPlot.min.css" "$out/uplot.css"
cp "$m/preact/LICENSE" "$out/LICENSE.preact"
cp "$m/htm/LICENSE" "$out/LICENSE.htm"
cp "$m/uplot/LICENSE" "$out/LICENSE.uplot"
cp "$m/axe-core/axe.min.js" test-vendor/axe.min.js
cp "$m/axe-core/LICENSE" test-vendor/LICENSE.axe-core
if grep -q 'from *"preact"' "$out/preact-hooks.js"; then
    echo "vendor.sh: preact-hooks.js still imports a bare specifier" >&2
    exit 1
fi
ls -l "$out" test-vendor
