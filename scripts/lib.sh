# Shell helpers shared by the scripts in scripts/ and bench/, sourced by them; the sourcing
# script defines die (its message and exit).

# A port on 127.0.0.1 where nothing answers now.
free_port() {
    local port _
    for _ in {1..200}; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

# Waits up to $2 seconds for process $1 to exit; fails when it is still there.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}
