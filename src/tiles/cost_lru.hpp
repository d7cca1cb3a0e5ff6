#pragma once
// Entries by key, each with a cost, bounded by a limit on the sum of the costs: once a new entry
// takes the sum past it, the least recently used entries go. TileCache keeps its memory tier in
// one (the cost of a tile in memory) and its index of tile files in another (the cost of a file
// on disk). Not thread-safe: the owner locks.
#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wangge::tiles::detail {

template <typename Key, typename Hash, typename Value>
class CostLru {
public:
    explicit CostLru(std::size_t limit) : m_limit(limit) {}

    // The value of `key`, which becomes the most recently used; nullptr when absent.
    Value* use(const Key& key) {
        const auto it = m_by_key.find(key);
        if (it == m_by_key.end()) return nullptr;
        m_order.splice(m_order.begin(), m_order, it->second);
        return &it->second->value;
    }

    // `value` as the most recently used entry of `key`, replacing any there; then the least
    // recently used entries leave until the costs are within the limit (this one too, when it
    // alone costs more). Returns the keys that left, for an owner that must release what
    // they stand for.
    std::vector<Key> put(const Key& key, Value value, std::size_t cost) {
        erase(key);
        m_order.push_front(Node{key, std::move(value), cost});
        m_by_key.emplace(key, m_order.begin());
        m_cost += cost;
        std::vector<Key> left;
        while (m_cost > m_limit) {
            Node& last = m_order.back();
            m_cost -= last.cost;
            m_by_key.erase(last.key);
            left.push_back(std::move(last.key));
            m_order.pop_back();
        }
        return left;
    }

    void erase(const Key& key) {
        const auto it = m_by_key.find(key);
        if (it == m_by_key.end()) return;
        m_cost -= it->second->cost;
        m_order.erase(it->second);
        m_by_key.erase(it);
    }

    template <typename Predicate>
    void erase_if(Predicate&& drop) {
        for (auto it = m_order.begin(); it != m_order.end();) {
            if (!drop(it->key)) {
                ++it;
                continue;
            }
            m_cost -= it->cost;
            m_by_key.erase(it->key);
            it = m_order.erase(it);
        }
    }

    void clear() noexcept {
        m_order.clear();
        m_by_key.clear();
        m_cost = 0;
    }

    std::size_t size() const noexcept { return m_order.size(); }
    std::size_t cost() const noexcept { return m_cost; }

private:
    struct Node {
        Key key;
        Value value;
        std::size_t cost = 0;
    };
    std::size_t m_limit;
    std::list<Node> m_order; // most recently used first
    // By key rather than by a string made of it: a hit allocates nothing.
    std::unordered_map<Key, typename std::list<Node>::iterator, Hash> m_by_key;
    std::size_t m_cost = 0;
};

} // namespace wangge::tiles::detail
