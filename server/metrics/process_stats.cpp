// Reads /proc/<pid>/stat, /proc/<pid>/fd, /proc/<pid>/limits and /proc/stat (boot time).
#include "server/metrics/process_stats.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace taskmaster::server {

namespace {

// The whole file, or nullopt. /proc files report size 0, so read until EOF.
std::optional<std::string> readFile(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0)
            break;
        text.append(buffer, std::size_t(n));
    }
    ::close(fd);
    return text;
}

std::string procPath(qint64 pid, const char *leaf)
{
    return (pid == 0 ? std::string("/proc/self/") : "/proc/" + std::to_string(pid) + '/') + leaf;
}

template<typename N> bool parseNumber(std::string_view text, N &out)
{
    const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
    return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// Boot time in seconds since the epoch ("btime" in /proc/stat); it never changes.
qint64 bootTime()
{
    static const qint64 value = [] {
        const auto text = readFile("/proc/stat");
        if (!text)
            return qint64(0);
        const auto at = text->find("\nbtime ");
        if (at == std::string::npos)
            return qint64(0);
        const auto start = at + 7;
        const auto end = text->find('\n', start);
        qint64 seconds = 0;
        parseNumber(std::string_view(*text).substr(start, end - start), seconds);
        return seconds;
    }();
    return value;
}

} // namespace

bool readStatInto(qint64 pid, ProcessStats &stats)
{
    const auto text = readFile(procPath(pid, "stat"));
    if (!text)
        return false;
    // The command name (field 2) is in parentheses and may hold spaces and ')': the fields
    // after it start behind the last ')'.
    const auto close = text->rfind(')');
    if (close == std::string::npos)
        return false;
    std::vector<std::string_view> fields; // fields[0] is field 3 (state)
    std::string_view rest = std::string_view(*text).substr(close + 1);
    while (!rest.empty()) {
        const auto begin = rest.find_first_not_of(" \n");
        if (begin == std::string_view::npos)
            break;
        rest.remove_prefix(begin);
        const auto end = std::min(rest.find_first_of(" \n"), rest.size());
        fields.push_back(rest.substr(0, end));
        rest.remove_prefix(end);
    }
    const auto field = [&fields](std::size_t number) { return fields[number - 3]; };
    if (fields.size() < 22)
        return false;
    qint64 utime = 0, stime = 0, threads = 0, starttime = 0, vsize = 0, rss = 0;
    if (!parseNumber(field(14), utime) || !parseNumber(field(15), stime) || !parseNumber(field(20), threads)
        || !parseNumber(field(22), starttime) || !parseNumber(field(23), vsize) || !parseNumber(field(24), rss))
        return false;
    const double ticks = double(::sysconf(_SC_CLK_TCK));
    stats.userCpuSeconds = double(utime) / ticks;
    stats.systemCpuSeconds = double(stime) / ticks;
    stats.threads = int(threads);
    stats.startTimeSeconds = double(bootTime()) + double(starttime) / ticks;
    stats.virtualBytes = vsize;
    stats.residentBytes = rss * qint64(::sysconf(_SC_PAGESIZE));
    return true;
}

qint64 readMaxFds(qint64 pid)
{
    const auto text = readFile(procPath(pid, "limits"));
    if (!text)
        return -1;
    const auto at = text->find("Max open files");
    if (at == std::string::npos)
        return -1;
    std::string_view line = std::string_view(*text).substr(at + 14);
    line = line.substr(0, line.find('\n'));
    const auto begin = line.find_first_not_of(' ');
    if (begin == std::string_view::npos)
        return -1;
    line.remove_prefix(begin);
    qint64 limit = -1;
    if (!parseNumber(line.substr(0, line.find(' ')), limit))
        return -1; // "unlimited"
    return limit;
}

int countOpenFds(qint64 pid)
{
    const bool self = pid == 0 || pid == qint64(::getpid());
    DIR *dir = ::opendir(procPath(self ? 0 : pid, "fd").c_str());
    if (!dir)
        return -1;
    int count = 0;
    while (const dirent *entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.')
            ++count;
    }
    ::closedir(dir);
    return self ? count - 1 : count; // our own listing used one descriptor
}

std::optional<ProcessStats> readProcessStats(qint64 pid)
{
    ProcessStats stats;
    stats.pid = pid;
    if (!readStatInto(pid, stats))
        return std::nullopt;
    stats.openFds = countOpenFds(pid);
    stats.maxFds = readMaxFds(pid);
    return stats;
}

std::optional<ProcessStats> readProcessStats()
{
    return readProcessStats(qint64(::getpid()));
}

qint64 raiseOpenFilesLimit()
{
    rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return -1;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
        ::getrlimit(RLIMIT_NOFILE, &lim);
    }
    return qint64(lim.rlim_cur);
}

} // namespace taskmaster::server
