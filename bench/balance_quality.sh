# shellcheck shell=bash
# The quality table of bench/balance.sh (`--only quality`; docs/BENCHMARKS.md, "Grid division"):
# the Walnut Hills census blocks run as a user runs Wangge. Sourced by balance.sh, which defines
# log, die, WANGGE, BALANCE_BENCH, WALNUT_HILLS, MIP_SECONDS and MIP_ATOMS.
#
#   1. ogr2ogr (SQLite dialect) makes the street (the union of all blocks, 390610001), the
#      communities (each census tract dissolved, 390610001 + the tract's number: tract 0042.00 is
#      390610001042) and the buildings (the blocks, with HOUSEHOLDS as households and BLOCK as
#      source_id);
#   2. `wangge import streets|communities|buildings` into a new database;
#   3. `wangge rebalance --community CODE --from-scratch --json` for every community, applied;
#   4. `wangge validate` must find nothing, and `wangge info` counts what was stored;
#   5. the stored grids (grid, community, block) go to `balance_bench --only quality`, which
#      scores them beside METIS and the MIP on the same blocks.

# Runs steps 1-5 into $1/quality and writes balance_bench's output to $1/balance_bench.txt.
measure_quality() {
    local results=$1 dir=$1/quality
    local db=$dir/walnut-hills.sqlite blocks=cincinnati_blocks
    mkdir -p "$dir"
    log "quality: street, communities and buildings from $WALNUT_HILLS"
    ogr2ogr -f GeoJSON "$dir/street.geojson" "$WALNUT_HILLS" -dialect sqlite -nln street -sql \
        "SELECT '390610001' AS code, 'Walnut Hills' AS name, ST_Union(geometry) AS geometry FROM $blocks"
    ogr2ogr -f GeoJSON "$dir/communities.geojson" "$WALNUT_HILLS" -dialect sqlite -nln communities -sql \
        "SELECT '390610001' || substr(TRACT, 7, 3) AS code, 'Tract ' || TRACT AS name, '390610001' AS street_code,
                ST_Union(geometry) AS geometry FROM $blocks GROUP BY TRACT ORDER BY TRACT"
    {
        "$WANGGE" import streets "$dir/street.geojson" --db "$db"
        "$WANGGE" import communities "$dir/communities.geojson" --db "$db"
        "$WANGGE" import buildings "$WALNUT_HILLS" --map households=HOUSEHOLDS --map source_id=BLOCK --db "$db"
    } >"$dir/import.txt" 2>&1 || die "import failed, see $dir/import.txt"

    local code t0 t1
    log "quality: wangge rebalance --from-scratch, each community"
    t0=$(date +%s.%N)
    for code in $(sqlite3 "$db" "SELECT code FROM communities ORDER BY code"); do
        "$WANGGE" rebalance --db "$db" --community "$code" --from-scratch --json >"$dir/rebalance-$code.json" \
            2>"$dir/rebalance-$code.err" || die "rebalance of $code failed, see $dir/rebalance-$code.err"
    done
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "quality_time seconds=%.1f\n", b - a }' >"$dir/rebalance-time.txt"
    # The mean Polsby-Popper of the stored grid polygons, as the proposal reports it, and the
    # stored grids in more than one piece.
    local pp pieces
    for code in $(sqlite3 "$db" "SELECT code FROM communities ORDER BY code"); do
        pp=$(grep -o '"after":{[^}]*}' "$dir/rebalance-$code.json" | grep -o '"mean_polsby_popper":[0-9.]*' | cut -d: -f2)
        pieces=$(sqlite3 -cmd ".load mod_spatialite" "$db" \
            "SELECT count(*) FROM grids WHERE community_code = '$code' AND ST_NumGeometries(geom) > 1")
        echo "quality_stored community=$code mean_pp=$pp pieces=$pieces" >>"$dir/rebalance-time.txt"
    done
    "$WANGGE" info --db "$db" >"$dir/info.txt" 2>&1
    if "$WANGGE" validate --db "$db" >"$dir/validate.txt" 2>&1; then
        echo "quality_validate valid=yes" >>"$dir/rebalance-time.txt"
    else
        log "quality: wangge validate found problems, see $dir/validate.txt"
        echo "quality_validate valid=no" >>"$dir/rebalance-time.txt"
    fi
    # Every grid with each of its blocks; a grid holding none appears once with an empty block.
    sqlite3 -csv "$db" "SELECT g.code, g.community_code, coalesce(b.source_id, '')
                        FROM grids g LEFT JOIN buildings b ON b.grid_code = g.code ORDER BY g.code" >"$dir/grids.csv"

    log "quality: METIS and the MIP (tracts of at most $MIP_ATOMS blocks, cbc ${MIP_SECONDS} s each) on the same blocks"
    "$BALANCE_BENCH" --only quality --walnut-hills "$WALNUT_HILLS" --wangge-grids "$dir/grids.csv" \
        --mip-atoms "$MIP_ATOMS" --mip-dir "$results/mip" --mip-seconds "$MIP_SECONDS" >"$results/balance_bench.txt" 2>&1 ||
        die "balance_bench failed, see $results/balance_bench.txt"
    cat "$dir/rebalance-time.txt" >>"$results/balance_bench.txt"
}

# Prints the table from balance_bench's output ($1).
print_quality_table() {
    awk '
    function kv(    i, p) { delete v; for (i = 2; i <= NF; i++) { p = index($i, "="); v[substr($i, 1, p - 1)] = substr($i, p + 1) } }
    $1 == "quality" { kv(); t = v["instance"]; m = v["method"]; if (!(t in seen)) { seen[t] = 1; order[++n] = t }
        community[t] = v["community"]; blocks[t] = v["blocks"]; households[t] = v["households"]
        row[t, m] = sprintf("%5s %6s %4s %5s %5s %6s %6s %5s %5s %6s %6s", v["grids"], v["in_band"], v["zero"],
            v["above_block"], v["below_part"], v["below"], v["above"], v["contiguous"], v["mean_pp"], "", "") }
    $1 == "quality_mip" { kv(); mip[v["instance"]] = v["status"] (v["k"] > 0 ? " k=" v["k"] : "") " " v["seconds"] "s" }
    $1 == "quality_verdict" { kv(); t = v["instance"]; feasible[t] = v["feasible"]
        verdict[t] = v["band"] " " v["zero"] " " v["pp"] }
    $1 == "quality_unassigned" { kv(); unassigned[v["instance"]] = v["blocks"] }
    $1 == "quality_targets" { kv()
        targets = sprintf("targets, tracts meeting each: every grid in band where a division exists %s of %s; no grid of 0 households %s of %s;\n" \
            "mean compactness >= METIS'"'"'s %s of the %s tracts where all of METIS'"'"'s grids are in band",
            v["band"], v["tracts"], v["zero"], v["tracts"], v["pp"], v["pp_compared"]) }
    $1 == "quality_time" { kv(); time = v["seconds"] }
    $1 == "quality_stored" { kv(); stored[v["community"]] = v["mean_pp"] (v["pieces"] > 0 ? ", " v["pieces"] " grids in pieces" : "") }
    $1 == "quality_validate" { kv(); valid = v["valid"] }
    END {
        fmt = "%-12s %-13s %6s %5s  %-6s %5s %6s %4s %5s %5s %6s %6s %5s %5s  %s\n"
        printf fmt, "tract", "community", "blocks", "hh", "method", "grids", "inband", "0hh", "1blk", "part", "below", "above", "contig", "PP", "feasible / MIP / band zero PP / stored PP"
        printf fmt, "", "", "", "", "", "", "", "", ">max", "<min", "other", "other", "", "", ""
        for (i = 1; i <= n; i++) {
            t = order[i]
            for (j = 1; j <= 3; j++) {
                m = j == 1 ? "wangge" : j == 2 ? "metis" : "mip"
                if (!((t, m) in row)) { if (m != "mip") continue; cells = "    -      -    -     -     -      -      -     -     -" }
                else cells = row[t, m]
                split(cells, c, " ")
                note = m == "wangge" && t != "all" ? feasible[t] " / " mip[t] " / " verdict[t] (t in unassigned ? " (" unassigned[t] " blocks in no grid)" : "") : ""
                if (m == "wangge" && community[t] in stored) note = note " / " stored[community[t]]
                printf fmt, (j == 1 ? t : ""), (j == 1 ? community[t] : ""), (j == 1 ? blocks[t] : ""), (j == 1 ? households[t] : ""),
                    m, c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], note
            }
        }
        print "1blk>max: above max, holding one block above max and no other households; part<min: below min, the"
        print "tract (or a part of it touching no other) holds fewer than min; both unavoidable. PP: mean Polsby-Popper of"
        print "the blocks of each grid (balance::measure, the same for all three). METIS gets Wangge'"'"'s grid count; the MIP"
        print "minimises the boundary, blocks above max alone, for the counts the band allows (Wangge'"'"'s first; the \"all\""
        print "row sums the tracts it solved). feasible: a division with every grid in band (bar the unavoidable) exists."
        print "contig: zones connected in the block graph (blocks touching across no gap). stored PP: mean Polsby-Popper"
        print "of the grid polygons wangge stored (and how many are in more than one piece)."
        print targets
        printf "wangge rebalance of all %d communities: %s s; wangge validate: %s\n", n - ("all" in seen), time, valid == "yes" ? "valid" : "PROBLEMS"
    }' "$1"
}
