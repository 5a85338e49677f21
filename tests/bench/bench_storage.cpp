// Storage benchmarks (issue: server core): a 1000-message batch insert through the group-commit
// path, and the latest history page of a room on a large messages table, on SQLite and
// PostgreSQL. TM_BENCH_ROWS sets the table size (default 10,000,000; the test suite runs a
// quick 20,000 to prove the benchmark works).
// Seed timings (issue 18), each printing "FIGURE | ..." rows (scripts/bench-seeds.sh writes them
// to docs/BENCHMARKS.md) and the databases' durability settings:
//   batchInsertForms  1,000 messages in one transaction, TM_BENCH_BATCHES times (default 20), in
//                     each form: the server's group-commit path (store::insertMessages: locks,
//                     idempotency, seqs, events), a bare multi-row INSERT of the rows (SQLite: in
//                     chunks of 256/64/...), PostgreSQL's unnest() of arrays and COPY FROM STDIN
//                     (sql::pgCopy); SQLite at synchronous=NORMAL (the server's) and FULL.
//   groupCommitBatches TM_BENCH_GC_BATCHES (default 2,000) small batches as group commit sends them
//                     under load (TM_BENCH_GC_MESSAGES messages, default 4, each in another of 200
//                     rooms, with client ids) through store::insertMessages on one connection:
//                     p50/mean/p95/max per batch, the statements run() counted per batch, and the
//                     CPU per batch of the PostgreSQL backend serving the connection (its
//                     /proc/<pid>/stat) and of the calling thread (the driver's side).
//   search            TM_BENCH_SEARCH_QUERIES (default 200) two-term searches (store::search, as
//                     GET /search) over TM_BENCH_SEARCH_ROWS messages (default 1,000,000; seeded
//                     with COPY on PostgreSQL, one transaction on SQLite) of words drawn from a
//                     Zipf-like vocabulary; p50/p95/max and the message query's plan (EXPLAIN
//                     ANALYZE / EXPLAIN QUERY PLAN) for the slowest query and a common pair.
#include "server/storage/db_pool.h"
#include "server/storage/room_store.h"
#include "server/storage/search_store.h"
#include "server/storage/sql.h"
#include "server/storage/user_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_env.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <time.h>
#include <unistd.h>

using namespace taskmaster;
using namespace taskmaster::server;
using taskmaster::test::backendRows;

class BenchStorage final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void batchInsert1000_data() { backendRows(); }
    void batchInsert1000();
    void historyLatestPage_data() { backendRows(); }
    void historyLatestPage();
    void batchInsertForms_data();
    void batchInsertForms();
    void groupCommitBatches_data() { backends(); }
    void groupCommitBatches();
    void search_data() { backends(); }
    void search();

private:
    void backends();
    struct Fixture {
        std::unique_ptr<DbPool> pool;
        Id user = 0;
        Id room = 0;
    };
    Fixture fixture(const QString &backend);
    void measureHistory(const Fixture &f);

    QTemporaryDir m_dir;
    QString m_pgUrl;
    // QtTest calls a benchmark function again until it has measured long enough: the filled
    // tables are kept per back end so that the fill runs once.
    std::map<QString, Fixture> m_filled;
    std::map<QString, Fixture> m_batch;
    std::map<QString, Fixture> m_forms;
    std::map<QString, Seq> m_formSeq; // last seq used per back end in m_forms' room
};

namespace {

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

// The database's durability settings, as the figures state them.
QString durability(QSqlDatabase &db)
{
    QSqlQuery q(db);
    if (sql::dialectOf(db) == sql::Dialect::Postgres) {
        QStringList parts;
        for (const char *name : {"fsync", "synchronous_commit", "full_page_writes"}) {
            if (q.exec(QStringLiteral("SHOW %1").arg(QLatin1String(name))) && q.next())
                parts << QStringLiteral("%1=%2").arg(QLatin1String(name), q.value(0).toString());
        }
        return parts.join(QLatin1Char(' '));
    }
    static const char *const kModes[] = {"OFF", "NORMAL", "FULL", "EXTRA"};
    QString text;
    if (q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next())
        text = QStringLiteral("journal_mode=") + q.value(0).toString();
    if (q.exec(QStringLiteral("PRAGMA synchronous")) && q.next())
        text += QStringLiteral(" synchronous=") + QLatin1String(kModes[std::clamp(q.value(0).toInt(), 0, 3)]);
    return text;
}

// 1,000 messages for one batch into room by author, their client ids "<prefix><round>-<i>".
QList<store::NewMessage> messageBatch(Id room, Id author, const QString &prefix, int round)
{
    QList<store::NewMessage> batch;
    batch.reserve(1000);
    for (int i = 0; i < 1000; ++i) {
        batch.append(store::NewMessage {room, author, QStringLiteral("benchmark message body number %1").arg(i),
                                        prefix + QStringLiteral("%1-%2").arg(round).arg(i)});
    }
    return batch;
}

// A fill of SQLite's messages table without the per-row FTS5 trigger: one 'rebuild' of the index
// afterwards gives the same table many times faster. Drops the trigger; the schema's definition
// of it (to put back), or nullopt when that failed.
std::optional<QString> dropFtsTrigger(QSqlQuery &q)
{
    if (!q.exec(QStringLiteral("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_fts_insert'"))
        || !q.next())
        return std::nullopt;
    const QString trigger = q.value(0).toString();
    if (!q.exec(QStringLiteral("DROP TRIGGER messages_fts_insert")))
        return std::nullopt;
    return trigger;
}
// After the fill: the index rebuilt, the trigger put back.
bool rebuildFts(QSqlQuery &q, const QString &trigger)
{
    return q.exec(QStringLiteral("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")) && q.exec(trigger);
}

// The end of a fill (begun with db.transaction()): committed and analyzed when ok so far; a
// warning with the last error otherwise. Whether all went well.
bool endFill(QSqlDatabase &db, QSqlQuery &q, bool ok)
{
    ok = ok && db.commit();
    ok = ok && q.exec(QStringLiteral("ANALYZE"));
    if (!ok)
        qWarning() << "fill failed:" << q.lastError().text();
    return ok;
}

struct Stats {
    double p50 = 0, p95 = 0, mean = 0, max = 0;
};

Stats stats(QList<double> ms)
{
    Stats s;
    if (ms.isEmpty())
        return s;
    std::sort(ms.begin(), ms.end());
    const auto at
        = [&](double p) { return ms[std::min(ms.size() - 1, qsizetype(std::ceil(p * double(ms.size())) - 1))]; };
    s.p50 = at(0.50);
    s.p95 = at(0.95);
    s.max = ms.constLast();
    for (double x : ms)
        s.mean += x;
    s.mean /= double(ms.size());
    return s;
}

// A vocabulary of letter-only words (the same token to FTS5 and to PostgreSQL's 'simple'
// configuration): word k of kVocabulary, drawn with probability about 1/k (Zipf-like: a few words
// are in most messages, most words in few).
constexpr int kVocabulary = 10000;
QString word(int k)
{
    static const char *const kSyllables[]
        = {"ka", "lo", "mi", "nu", "pe", "ra", "so", "ti", "va", "zu", "be", "do", "fi", "go", "hu", "je"};
    QString w;
    do {
        w += QLatin1String(kSyllables[k % 16]);
        k /= 16;
    } while (k > 0);
    return w;
}
int drawWord(std::mt19937_64 &rng)
{
    std::uniform_real_distribution<double> u(0.0, 1.0);
    return std::clamp(int(std::exp(u(rng) * std::log(double(kVocabulary)))), 1, kVocabulary);
}
QString body(std::mt19937_64 &rng)
{
    std::uniform_int_distribution<int> words(6, 12);
    QStringList parts;
    for (int i = words(rng); i > 0; --i)
        parts << word(drawWord(rng));
    return parts.join(QLatin1Char(' '));
}

} // namespace

void BenchStorage::initTestCase()
{
    TM_REQUIRE_SERVICE(url, "TM_TEST_DATABASE_URL");
    m_pgUrl = url;
}

void BenchStorage::backends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

BenchStorage::Fixture BenchStorage::fixture(const QString &backend)
{
    Fixture f;
    DbPoolOptions options = test::freshDatabase(backend, m_dir, m_pgUrl);
    // Filling millions of rows takes far longer than the server's statement timeout.
    options.statementTimeout = std::chrono::hours(1);
    f.pool = std::make_unique<DbPool>(options);
    f.user
        = f.pool
              ->run([](QSqlDatabase &db) {
                  return store::createUser(db, QStringLiteral("bench"), QStringLiteral("Bench"), QStringLiteral("h"), 1)
                      ->id;
              })
              .result();
    f.room = f.pool
                 ->run([&](QSqlDatabase &db) {
                     return store::createRoom(db, f.user, QStringLiteral("bench"), {}, 1)->room.id;
                 })
                 .result();
    return f;
}

void BenchStorage::batchInsert1000()
{
    QFETCH(QString, backend);
    // One database per back end for every rerun QtTest makes of this function.
    auto it = m_batch.find(backend);
    if (it == m_batch.end())
        it = m_batch.emplace(backend, fixture(backend)).first;
    Fixture &f = it->second;
    static int round = 0;
    const auto insertBatch = [&f] {
        const QList<store::NewMessage> batch = messageBatch(f.room, f.user, QStringLiteral("r"), round++);
        const auto r = f.pool->run([&](QSqlDatabase &db) { return store::insertMessages(db, batch, 2); }).result();
        return r && r->size() == 1000 && r->constLast();
    };
    // Warm-up outside the measurement: the first batch prepares the statements.
    QVERIFY(insertBatch());
    QBENCHMARK
    {
        QVERIFY(insertBatch());
    }
}

void BenchStorage::historyLatestPage()
{
    QFETCH(QString, backend);
    const qint64 rows
        = qEnvironmentVariableIsSet("TM_BENCH_ROWS") ? qEnvironmentVariable("TM_BENCH_ROWS").toLongLong() : 10'000'000;
    if (const auto it = m_filled.find(backend); it != m_filled.end()) {
        measureHistory(it->second);
        return;
    }
    Fixture f = fixture(backend);
    // Fill with SQL: 100 rooms, the benchmarked one among them, each room's rows contiguous (as a
    // real table grows: appended in seq order). On SQLite the per-row FTS5 trigger is replaced by
    // one 'rebuild' of the index after the fill, which gives the same table 20x faster.
    const qint64 perRoom = std::max<qint64>(1, rows / 100);
    const bool filled
        = f.pool
              ->run([&](QSqlDatabase &db) {
                  QSqlQuery q(db);
                  const bool pg = backend == QLatin1String("postgres");
                  const auto series = [pg](qint64 n) {
                      return pg ? QStringLiteral("generate_series(1, %1) AS g(n)").arg(n)
                                : QStringLiteral("(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                                                 "SELECT n + 1 FROM s WHERE n < %1) SELECT n FROM s) g")
                                      .arg(n);
                  };
                  bool ok = db.transaction();
                  ok = ok
                      && q.exec(QStringLiteral("INSERT INTO rooms (name, created_at) SELECT 'r', 1 FROM ")
                                + series(99));
                  std::optional<QString> trigger;
                  if (!pg && ok) {
                      trigger = dropFtsTrigger(q);
                      ok = trigger.has_value();
                  }
                  ok = ok
                      && q.exec(
                          QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, created_at) "
                                         "SELECT %1 + (g.n - 1) / %3, (g.n - 1) % %3 + 1, %2, 'body ' || g.n, g.n "
                                         "FROM ")
                              .arg(f.room)
                              .arg(f.user)
                              .arg(perRoom)
                          + series(perRoom * 100));
                  if (!pg)
                      ok = ok && rebuildFts(q, *trigger);
                  ok = ok && q.exec(QStringLiteral("UPDATE rooms SET last_seq = %1").arg(perRoom));
                  return endFill(db, q, ok);
              })
              .result();
    QVERIFY(filled);
    measureHistory(m_filled.emplace(backend, std::move(f)).first->second);
}

void BenchStorage::measureHistory(const Fixture &f)
{
    QBENCHMARK
    {
        const auto page = f.pool
                              ->run([&](QSqlDatabase &db) {
                                  return store::history(db, f.room, f.user, std::nullopt, std::nullopt, 50);
                              })
                              .result();
        QVERIFY(page && page->items.size() == 50);
    }
}

void BenchStorage::batchInsertForms_data()
{
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("form");
    QTest::addColumn<QString>("synchronous"); // SQLite's PRAGMA synchronous for the run
    for (const char *sync : {"NORMAL", "FULL"}) {
        for (const char *form : {"server", "multirow"}) {
            QTest::addRow("sqlite %s %s", form, sync)
                << QStringLiteral("sqlite") << QString::fromLatin1(form) << QString::fromLatin1(sync);
        }
    }
    for (const char *form : {"server", "multirow", "unnest", "copy"})
        QTest::addRow("postgres %s", form) << QStringLiteral("postgres") << QString::fromLatin1(form) << QString();
}

void BenchStorage::batchInsertForms()
{
    QFETCH(QString, backend);
    QFETCH(QString, form);
    QFETCH(QString, synchronous);
    const int batches = envInt("TM_BENCH_BATCHES", 20);
    auto it = m_forms.find(backend);
    if (it == m_forms.end())
        it = m_forms.emplace(backend, fixture(backend)).first;
    Fixture &f = it->second;
    Seq &seq = m_formSeq[backend];
    static int round = 0;
    QString settings;
    // One batch of 1,000 in one transaction; true when all were stored.
    const auto insertBatch = [&]() -> bool {
        const QList<store::NewMessage> batch = messageBatch(f.room, f.user, QStringLiteral("f"), round++);
        return f.pool
            ->run([&](QSqlDatabase &db) -> bool {
                const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
                if (!pg) {
                    QSqlQuery pragma(db);
                    if (!pragma.exec(QStringLiteral("PRAGMA synchronous=%1").arg(synchronous)))
                        return false;
                }
                settings = durability(db);
                if (form == QLatin1String("server")) {
                    const auto stored = store::insertMessages(db, batch, 2);
                    // The server's own path keeps rooms.last_seq: the bare forms continue after it.
                    QSqlQuery last(db);
                    if (!last.exec(QStringLiteral("SELECT last_seq FROM rooms WHERE id = %1").arg(f.room))
                        || !last.next())
                        return false;
                    seq = last.value(0).toLongLong();
                    return stored && stored->size() == 1000 && stored->constLast();
                }
                sql::Transaction tx(db);
                if (!tx.began())
                    return false;
                const Seq first = seq + 1;
                if (form == QLatin1String("copy")) {
                    QByteArray rows;
                    rows.reserve(1000 * 80);
                    for (int i = 0; i < batch.size(); ++i) {
                        const store::NewMessage &m = batch[i];
                        rows += QByteArray::number(m.roomId) + '\t' + QByteArray::number(first + i) + '\t'
                            + QByteArray::number(m.authorId) + '\t';
                        sql::appendCopyField(rows, m.body);
                        rows += '\t';
                        sql::appendCopyField(rows, *m.clientId);
                        rows += "\t2\n";
                    }
                    const auto copied = sql::pgCopy(
                        db, "bench.copy",
                        "COPY messages (room_id, seq, author_id, body, client_id, created_at) FROM STDIN", rows);
                    if (!copied || *copied != 1000) {
                        qWarning() << "copy failed" << (copied ? QString::number(*copied) : copied.error().message);
                        return false;
                    }
                } else if (form == QLatin1String("unnest")) {
                    QList<qint64> rooms, seqs, authors;
                    QList<std::optional<QString>> bodies, clients;
                    for (int i = 0; i < batch.size(); ++i) {
                        rooms << batch[i].roomId;
                        seqs << first + i;
                        authors << batch[i].authorId;
                        bodies << batch[i].body;
                        clients << batch[i].clientId;
                    }
                    if (!sql::run(db, "bench.unnest",
                                  QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, client_id, "
                                                 "created_at) SELECT r, s, a, b, c, 2 FROM unnest(?::bigint[], "
                                                 "?::bigint[], ?::bigint[], ?::text[], ?::text[]) AS v(r, s, a, b, c)"),
                                  {sql::pgArray(rooms), sql::pgArray(seqs), sql::pgArray(authors),
                                   sql::pgTextArray(bodies), sql::pgTextArray(clients)}))
                        return false;
                } else {
                    // Multi-row VALUES: PostgreSQL in one statement of 1,000 rows; SQLite in
                    // chunks (its limit of bound parameters), as the server's path does.
                    qsizetype at = 0;
                    for (const int n : pg ? QList<int> {int(batch.size())} : sql::rowChunks(batch.size())) {
                        QVariantList binds;
                        binds.reserve(n * 5);
                        for (qsizetype k = at; k < at + n; ++k)
                            binds << batch[k].roomId << first + k << batch[k].authorId << batch[k].body
                                  << *batch[k].clientId;
                        if (!sql::run(db, "bench.multirow",
                                      QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, client_id, "
                                                     "created_at) VALUES ")
                                          + sql::joined(n, u"(?, ?, ?, ?, ?, 2)"),
                                      binds))
                            return false;
                        at += n;
                    }
                }
                if (!sql::run(db, "bench.last_seq", QStringLiteral("UPDATE rooms SET last_seq = ? WHERE id = ?"),
                              {first + 999, f.room}))
                    return false;
                if (tx.commit())
                    return false;
                seq = first + 999;
                return true;
            })
            .result();
    };
    QVERIFY(insertBatch()); // warm-up: statements prepared
    QList<double> ms;
    for (int i = 0; i < batches; ++i) {
        QElapsedTimer timer;
        timer.start();
        QVERIFY(insertBatch());
        ms.append(double(timer.nsecsElapsed()) / 1e6);
    }
    const Stats st = stats(ms);
    std::printf("FIGURE batch | %s | %s | %s | %d | %.1f | %.1f | %.1f | %.1f |\n", qPrintable(backend),
                qPrintable(form), qPrintable(settings), batches, st.p50, st.mean, st.p95, st.max);
    std::fflush(stdout);
}

namespace {

// CPU time (user + system) of process pid in ms from /proc/<pid>/stat; -1 when unreadable.
double processCpuMs(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (pid <= 0 || !f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = f.readAll();
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    const double ticks = double(fields[11].toLongLong() + fields[12].toLongLong());
    return ticks * 1000.0 / double(sysconf(_SC_CLK_TCK));
}

double threadCpuMs()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

} // namespace

void BenchStorage::groupCommitBatches()
{
    QFETCH(QString, backend);
    const int batches = envInt("TM_BENCH_GC_BATCHES", 2000);
    const int perBatch = envInt("TM_BENCH_GC_MESSAGES", 4);
    constexpr int kRooms = 200;
    Fixture f = fixture(backend);
    struct Run {
        QList<double> ms;
        double backendCpuMs = -1, clientCpuMs = 0;
        qint64 statements = 0;
        QString settings;
        bool ok = false;
    };
    const Run run = f.pool
                        ->run([&](QSqlDatabase &db) {
                            Run r;
                            r.settings = durability(db);
                            QList<Id> rooms {f.room};
                            while (rooms.size() < kRooms)
                                rooms << store::createRoom(db, f.user, QStringLiteral("r"), {}, 1)->room.id;
                            qint64 pid = 0;
                            if (sql::dialectOf(db) == sql::Dialect::Postgres) {
                                QSqlQuery q(db);
                                if (q.exec(QStringLiteral("SELECT pg_backend_pid()")) && q.next())
                                    pid = q.value(0).toLongLong();
                            }
                            const auto send = [&](const QString &prefix, int b) {
                                QList<store::NewMessage> batch;
                                for (int j = 0; j < perBatch; ++j)
                                    batch.append(store::NewMessage {rooms[(b * perBatch + j) % kRooms], f.user,
                                                                    QStringLiteral("group commit message %1").arg(j),
                                                                    prefix + QStringLiteral("%1-%2").arg(b).arg(j)});
                                const auto stored = store::insertMessages(db, batch, 2);
                                return stored && stored->size() == perBatch && stored->constLast()
                                    && !stored->constLast()->duplicate;
                            };
                            for (int b = 0; b < 20; ++b) { // warm-up: statements prepared
                                if (!send(QStringLiteral("w"), b))
                                    return r;
                            }
                            const double backendBefore = processCpuMs(pid);
                            const double clientBefore = threadCpuMs();
                            const qint64 statementsBefore = sql::queriesOnThisThread();
                            for (int b = 0; b < batches; ++b) {
                                QElapsedTimer timer;
                                timer.start();
                                if (!send(QStringLiteral("g"), b))
                                    return r;
                                r.ms.append(double(timer.nsecsElapsed()) / 1e6);
                            }
                            r.statements = sql::queriesOnThisThread() - statementsBefore;
                            r.clientCpuMs = threadCpuMs() - clientBefore;
                            const double backendAfter = processCpuMs(pid);
                            if (backendBefore >= 0 && backendAfter >= 0)
                                r.backendCpuMs = backendAfter - backendBefore;
                            r.ok = true;
                            return r;
                        })
                        .result();
    QVERIFY(run.ok);
    const Stats st = stats(run.ms);
    // backend | settings | batches | messages per batch | p50 | mean | p95 | max ms | statements
    // per batch (run(), without BEGIN and COMMIT) | PostgreSQL backend CPU ms per batch | the
    // calling thread's CPU ms per batch.
    std::printf("FIGURE groupcommit | %s | %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.2f | %s | %.3f |\n",
                qPrintable(backend), qPrintable(run.settings), batches, perBatch, st.p50, st.mean, st.p95, st.max,
                double(run.statements) / batches,
                run.backendCpuMs < 0 ? "-" : qPrintable(QString::number(run.backendCpuMs / batches, 'f', 3)),
                run.clientCpuMs / batches);
    std::fflush(stdout);
}

void BenchStorage::search()
{
    QFETCH(QString, backend);
    const qint64 rows = envInt("TM_BENCH_SEARCH_ROWS", 1'000'000);
    const int queries = envInt("TM_BENCH_SEARCH_QUERIES", 200);
    constexpr int kRooms = 100;
    Fixture f = fixture(backend);
    std::mt19937_64 rng(18);
    QElapsedTimer fillTimer;
    fillTimer.start();
    const bool filled
        = f.pool
              ->run([&](QSqlDatabase &db) {
                  const bool pg = sql::dialectOf(db) == sql::Dialect::Postgres;
                  QSqlQuery q(db);
                  bool ok = db.transaction();
                  // kRooms rooms (the fixture's and more); the user belongs to every other one,
                  // so the search filters by membership too.
                  for (int i = 1; ok && i < kRooms; ++i)
                      ok = q.exec(QStringLiteral("INSERT INTO rooms (name, created_at) VALUES ('r%1', 1)").arg(i));
                  QList<Id> rooms;
                  ok = ok && q.exec(QStringLiteral("SELECT id FROM rooms ORDER BY id"));
                  while (ok && q.next())
                      rooms << q.value(0).toLongLong();
                  for (qsizetype i = 0; ok && i < rooms.size(); ++i) {
                      if (rooms[i] != f.room && i % 2 == 0)
                          ok = q.exec(QStringLiteral("INSERT INTO room_members (room_id, user_id, joined_at) VALUES "
                                                     "(%1, %2, 1)")
                                          .arg(rooms[i])
                                          .arg(f.user));
                  }
                  std::map<Id, Seq> seqs;
                  std::uniform_int_distribution<qsizetype> pickRoom(0, rooms.size() - 1);
                  if (pg) {
                      // COPY in pieces of 100,000 rows; the GIN index built after the fill (as
                      // fast as a restore), the same definition as the schema's.
                      ok = ok && q.exec(QStringLiteral("DROP INDEX messages_search"));
                      QByteArray data;
                      for (qint64 n = 0; ok && n < rows; ++n) {
                          const Id room = rooms[pickRoom(rng)];
                          data += QByteArray::number(room) + '\t' + QByteArray::number(++seqs[room]) + '\t'
                              + QByteArray::number(f.user) + '\t';
                          sql::appendCopyField(data, body(rng));
                          data += '\t' + QByteArray::number(n + 1) + '\n';
                          if ((n + 1) % 100000 == 0 || n + 1 == rows) {
                              const auto copied = sql::pgCopy(
                                  db, "bench.copy",
                                  "COPY messages (room_id, seq, author_id, body, created_at) FROM STDIN", data);
                              ok = copied.ok();
                              if (!ok)
                                  qWarning() << copied.error().message;
                              data.clear();
                          }
                      }
                      ok = ok && q.exec(QStringLiteral("CREATE INDEX messages_search ON messages USING gin (search)"));
                  } else {
                      const std::optional<QString> trigger = ok ? dropFtsTrigger(q) : std::nullopt;
                      ok = trigger.has_value();
                      QSqlQuery ins(db);
                      ok = ok
                          && ins.prepare(QStringLiteral("INSERT INTO messages (room_id, seq, author_id, body, "
                                                        "created_at) VALUES (?, ?, ?, ?, ?)"));
                      for (qint64 n = 0; ok && n < rows; ++n) {
                          const Id room = rooms[pickRoom(rng)];
                          ins.bindValue(0, room);
                          ins.bindValue(1, ++seqs[room]);
                          ins.bindValue(2, f.user);
                          ins.bindValue(3, body(rng));
                          ins.bindValue(4, n + 1);
                          ok = ins.exec();
                      }
                      ok = ok && rebuildFts(q, *trigger);
                  }
                  for (const auto &[room, last] : seqs) {
                      ok = ok
                          && q.exec(QStringLiteral("UPDATE rooms SET last_seq = %1 WHERE id = %2").arg(last).arg(room));
                  }
                  return endFill(db, q, ok);
              })
              .result();
    QVERIFY(filled);
    const double fillS = double(fillTimer.elapsed()) / 1000.0;
    // Two different terms each, drawn like the bodies' words: common pairs as often as people type them.
    QStringList texts;
    for (int i = 0; i < queries; ++i) {
        const int first = drawWord(rng);
        int second = drawWord(rng);
        while (second == first)
            second = drawWord(rng);
        texts << word(first) + QLatin1Char(' ') + word(second);
    }
    QList<double> ms;
    QString slowest;
    double slowestMs = -1;
    qint64 hits = 0;
    QString settings;
    for (const QString &text : texts) {
        QElapsedTimer timer;
        timer.start();
        const auto found = f.pool->run([&](QSqlDatabase &db) { return store::search(db, f.user, text, 50); }).result();
        const double t = double(timer.nsecsElapsed()) / 1e6;
        QVERIFY(found.ok());
        hits += found->messages.size();
        ms.append(t);
        if (t > slowestMs) {
            slowestMs = t;
            slowest = text;
        }
    }
    const Stats st = stats(ms);
    const QString common = word(1) + QLatin1Char(' ') + word(2);
    f.pool
        ->run([&](QSqlDatabase &db) {
            settings = durability(db);
            for (const QString &text : {slowest, common}) {
                const auto plan = store::explainMessageSearch(db, f.user, text, 50);
                std::printf("PLAN %s \"%s\":\n", qPrintable(backend), qPrintable(text));
                if (!plan) {
                    std::printf("  (failed: %s)\n", qPrintable(plan.error().message));
                    continue;
                }
                for (const QString &line : *plan)
                    std::printf("  %s\n", qPrintable(line));
            }
            return true;
        })
        .result();
    std::printf("FIGURE search | %s | %s | %lld | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n",
                qPrintable(backend), qPrintable(settings), static_cast<long long>(rows), queries, st.p50, st.p95,
                st.max, st.mean, double(hits) / double(queries), fillS);
    std::fflush(stdout);
}

QTEST_GUILESS_MAIN(BenchStorage)
#include "bench_storage.moc"
