#!/usr/bin/env bash
# Checks of the documentation that can fail: a Markdown table cut by a blank line (its second
# half renders as text), and a relative link to a file that does not exist.
# Usage: check_docs.sh REPOSITORY_ROOT
set -euo pipefail
cd "$1"
failures=0
for f in README.md docs/*.md; do
    # A line of a table, a blank line, then a line of a table again.
    while IFS= read -r line; do
        echo "$f:$line: a blank line cuts a table in two"
        failures=$((failures + 1))
    done < <(awk 'prev2 ~ /^\|/ && prev1 ~ /^[[:space:]]*$/ && $0 ~ /^\|/ { print NR - 1 } { prev2 = prev1; prev1 = $0 }' "$f")
    # Relative links: [text](path) or [text](path#anchor), not URLs.
    dir=$(dirname "$f")
    while IFS= read -r target; do
        path=${target%%#*}
        [[ -z $path ]] && continue
        if [[ ! -e $dir/$path ]]; then
            echo "$f: link to $target, which does not exist"
            failures=$((failures + 1))
        fi
    done < <(grep -o '\](\([^)#:]*\)\(#[^)]*\)\?)' "$f" | sed 's/^](\(.*\))$/\1/' | sort -u)
done
if ((failures)); then
    echo "$failures problem(s) in the documentation"
    exit 1
fi
echo "documentation: tables whole, relative links resolve"
