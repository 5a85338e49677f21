// OptionalRef<T>: a dependency a piece of the REST layer works without (no cache, no rate limits,
// no read replica routing). It says so in the type, where a bare pointer would not: test it before
// use; -> on an absent one is a bug (asserted). Required dependencies are references.
// Owns: nothing (the object belongs to ServerApp). Thread: the owner's.
#pragma once

#include <QtGlobal>

namespace taskmaster::server {

template<typename T> class OptionalRef {
public:
    OptionalRef() = default; // absent
    OptionalRef(T *object) : m_object(object) { } // nullptr: absent

    [[nodiscard]] explicit operator bool() const { return m_object != nullptr; }
    [[nodiscard]] T *get() const { return m_object; }
    T *operator->() const
    {
        Q_ASSERT(m_object);
        return m_object;
    }
    T &operator*() const
    {
        Q_ASSERT(m_object);
        return *m_object;
    }

private:
    T *m_object = nullptr;
};

} // namespace taskmaster::server
