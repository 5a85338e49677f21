// Overloaded: a set of lambdas as one visitor for std::visit over the frame variants
// (std::visit(Overloaded {[](const A &) {...}, [](const B &) {...}}, frame)).
// Owns: nothing. Thread: any.
#pragma once

namespace taskmaster {

template<class... Ts> struct Overloaded : Ts... {
    using Ts::operator()...;
};
template<class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

} // namespace taskmaster
