// PendingAnswer: the answer to a REST request that callbacks work out (a token lookup, a rate
// decision, a cache read, a revocation) instead of one future: the future the router answers from,
// settled once from a callback on the network thread. answerAfter(): one more step on the
// network thread between a handler's result and its answer (logout revokes the session there).
// Owns: the promise, shared by its copies. Thread: network thread.
#pragma once

#include "server/http/api.h"

#include <QFuture>
#include <QObject>
#include <QPromise>

#include <functional>
#include <memory>

namespace taskmaster::server {

class PendingAnswer final {
public:
    PendingAnswer() : m_promise(std::make_shared<QPromise<Result<ApiResponse>>>()) { m_promise->start(); }

    [[nodiscard]] ApiFuture future() const { return m_promise->future(); }
    // Answers with result; call once.
    void settle(Result<ApiResponse> result) const
    {
        m_promise->addResult(std::move(result));
        m_promise->finish();
    }
    // Answers with what future gives, once it does (on context's thread).
    void settleFrom(ApiFuture future, QObject *context) const
    {
        future.then(context, [self = *this](const Result<ApiResponse> &r) { self.settle(r); });
    }

private:
    std::shared_ptr<QPromise<Result<ApiResponse>>> m_promise;
};

// A step before answering: runs with the handler's successful response and calls done when the
// answer may go out.
using BeforeAnswer = std::function<void(const ApiResponse &response, std::function<void()> done)>;

// future's result, answered after step has run on context's thread (errors are answered at once).
[[nodiscard]] inline ApiFuture answerAfter(ApiFuture future, QObject *context, BeforeAnswer step)
{
    PendingAnswer answer;
    future.then(context, [answer, step = std::move(step)](const Result<ApiResponse> &result) {
        if (!result) {
            answer.settle(result);
            return;
        }
        step(*result, [answer, result] { answer.settle(result); });
    });
    return answer.future();
}

} // namespace taskmaster::server
