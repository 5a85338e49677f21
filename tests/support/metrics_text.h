// Reading a server's /metrics text (the Prometheus exposition: one "series value" line per
// sample, a series being a name with its labels as the server writes them) in tests, in one
// place instead of a line loop per suite. tst_metrics_scrape parses the whole format itself.
#pragma once

#include "tests/support/api_client.h"

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace taskmaster::test {

// The sample of one series ("name", or "name{label=\"v\",...}" exactly as written) in a /metrics
// text; nullopt when it is not there.
[[nodiscard]] inline std::optional<double> metricSample(const QByteArray &text, QByteArrayView series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.size() > series.size() && line.startsWith(series) && line.at(series.size()) == ' ')
            return line.mid(series.size() + 1).toDouble();
    }
    return std::nullopt;
}

// The sum of the samples of every series that starts with prefix (e.g. "name{" for all the
// labelled series of a family); 0 when none does.
[[nodiscard]] inline double metricSum(const QByteArray &text, QByteArrayView prefix)
{
    double sum = 0;
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(prefix) && !line.startsWith('#'))
            sum += line.mid(line.lastIndexOf(' ') + 1).toDouble();
    }
    return sum;
}

// The sample of one series in the server's /metrics now; -1 when it is not there.
[[nodiscard]] inline double scrapeMetric(ApiClient &api, QByteArrayView series)
{
    return metricSample(api.metrics(), series).value_or(-1);
}

} // namespace taskmaster::test
