// What can be checked of packaging/k8s/ and packaging/container/ without a cluster or an image
// build (docs/deploy.md, "Kubernetes", says what is not): every manifest parses as YAML (Debian's
// python3-yaml), names and ports agree between the Deployment, Service, Ingress, PDB and HPAs,
// every ConfigMap/Secret key is an option the server knows, the real server accepts the
// ConfigMap's settings, the probe paths and the Ingress paths are routes it serves, the HPA
// variant's custom metric is one its /metrics exports, the grace period covers preStop and the
// drain, and the Containerfile agrees with the Deployment (port, user).
#include "tests/support/server_process.h"
#include "tests/support/tool_process.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

#include <memory>

using namespace taskmaster::test;

namespace {

const QString kK8sDir = QStringLiteral(TM_SOURCE_DIR "/packaging/k8s");

QJsonValue at(const QJsonValue &v, const QString &path)
{
    QJsonValue cur = v;
    for (const QString &key : path.split(QLatin1Char('.'))) {
        bool isIndex = false;
        const int i = key.toInt(&isIndex);
        cur = isIndex ? cur.toArray().at(i) : cur.toObject().value(key);
    }
    return cur;
}

int status(QNetworkAccessManager &nam, const QUrl &url)
{
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(url)));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(10000))
        return 0;
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

} // namespace

class TestK8sManifests final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void everyManifestParses();
    void namesAndPortsAgree();
    void optionsAreTheServers();
    void probesAndMetricAreReal();
    void gracePeriodCoversDrain();
    void containerfileAgrees();

private:
    // The first document of kind (and name, when given) in any manifest.
    [[nodiscard]] QJsonObject doc(const QString &kind, const QString &file = {}) const;
    QHash<QString, QJsonArray> m_files; // file name -> its documents
};

void TestK8sManifests::initTestCase()
{
    if (!QFile::exists(QStringLiteral("/usr/bin/python3")))
        QSKIP("needs /usr/bin/python3 with python3-yaml (scripts/packages.txt)");
    const QStringList files = QDir(kK8sDir).entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name);
    QVERIFY(files.size() >= 9);
    for (const QString &f : files) {
        const ToolRun r = runTool(
            QStringLiteral("/usr/bin/python3"),
            {QStringLiteral("-c"),
             QStringLiteral(
                 "import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)"),
             QDir(kK8sDir).filePath(f)});
        QVERIFY2(r.exitCode == 0, qPrintable(f + QLatin1Char('\n') + r.describe()));
        m_files.insert(f, QJsonDocument::fromJson(r.out).array());
    }
}

QJsonObject TestK8sManifests::doc(const QString &kind, const QString &file) const
{
    for (auto it = m_files.cbegin(); it != m_files.cend(); ++it) {
        if (!file.isEmpty() && it.key() != file)
            continue;
        for (const QJsonValue &d : it.value()) {
            if (d.toObject().value(QLatin1String("kind")).toString() == kind)
                return d.toObject();
        }
    }
    return {};
}

void TestK8sManifests::everyManifestParses()
{
    for (auto it = m_files.cbegin(); it != m_files.cend(); ++it) {
        QVERIFY2(!it.value().isEmpty(), qPrintable(it.key()));
        for (const QJsonValue &d : it.value()) {
            const QJsonObject o = d.toObject();
            QVERIFY2(!o.value(QLatin1String("apiVersion")).toString().isEmpty(), qPrintable(it.key()));
            QVERIFY2(!o.value(QLatin1String("kind")).toString().isEmpty(), qPrintable(it.key()));
            if (o.value(QLatin1String("kind")).toString() == QLatin1String("Kustomization"))
                continue;
            QVERIFY2(!at(o, QStringLiteral("metadata.name")).toString().isEmpty(), qPrintable(it.key()));
            if (o.value(QLatin1String("kind")).toString() != QLatin1String("Namespace"))
                QCOMPARE(at(o, QStringLiteral("metadata.namespace")).toString(), QStringLiteral("taskmaster"));
        }
    }
    // kustomization.yaml names files that exist.
    for (const QJsonValue &r : at(doc(QStringLiteral("Kustomization")), QStringLiteral("resources")).toArray())
        QVERIFY2(m_files.contains(r.toString()), qPrintable(r.toString()));
    // kubectl (not a Debian package) renders the kustomization offline when it is there.
    if (!QStandardPaths::findExecutable(QStringLiteral("kubectl")).isEmpty()) {
        const ToolRun k = runTool(QStringLiteral("kubectl"), {QStringLiteral("kustomize"), kK8sDir});
        QVERIFY2(k.exitCode == 0 && k.out.contains("kind: Deployment"), qPrintable(k.describe()));
    }
}

void TestK8sManifests::namesAndPortsAgree()
{
    const QJsonObject deploy = doc(QStringLiteral("Deployment"));
    const QJsonObject labels = at(deploy, QStringLiteral("spec.template.metadata.labels")).toObject();
    QCOMPARE(at(deploy, QStringLiteral("spec.selector.matchLabels")).toObject(), labels);
    const QJsonObject container = at(deploy, QStringLiteral("spec.template.spec.containers.0")).toObject();
    const QJsonObject port = at(container, QStringLiteral("ports.0")).toObject();
    QCOMPARE(port.value(QLatin1String("name")).toString(), QStringLiteral("http"));
    // The ConfigMap's TM_LISTEN port is the container port.
    const QString listen
        = at(doc(QStringLiteral("ConfigMap"), QStringLiteral("configmap.yaml")), QStringLiteral("data.TM_LISTEN"))
              .toString();
    QCOMPARE(listen.section(QLatin1Char(':'), -1).toInt(), port.value(QLatin1String("containerPort")).toInt());
    QCOMPARE(at(deploy, QStringLiteral("spec.template.metadata.annotations"))
                 .toObject()
                 .value(QLatin1String("prometheus.io/port"))
                 .toString()
                 .toInt(),
             port.value(QLatin1String("containerPort")).toInt());
    // The ConfigMap and Secret the pod reads exist under those names.
    QCOMPARE(at(container, QStringLiteral("envFrom.0.configMapRef.name")).toString(),
             at(doc(QStringLiteral("ConfigMap"), QStringLiteral("configmap.yaml")), QStringLiteral("metadata.name"))
                 .toString());
    QCOMPARE(at(container, QStringLiteral("envFrom.1.secretRef.name")).toString(),
             at(doc(QStringLiteral("Secret")), QStringLiteral("metadata.name")).toString());
    for (const char *probe : {"readinessProbe", "livenessProbe", "startupProbe"})
        QCOMPARE(at(container, QLatin1String(probe) + QStringLiteral(".httpGet.port")).toString(),
                 QStringLiteral("http"));

    const QJsonObject service = doc(QStringLiteral("Service"));
    QCOMPARE(at(service, QStringLiteral("spec.selector")).toObject(), labels);
    QCOMPARE(at(service, QStringLiteral("spec.ports.0.targetPort")).toString(), QStringLiteral("http"));
    const QString serviceName = at(service, QStringLiteral("metadata.name")).toString();
    const QString servicePort = at(service, QStringLiteral("spec.ports.0.name")).toString();
    const QJsonArray paths = at(doc(QStringLiteral("Ingress")), QStringLiteral("spec.rules.0.http.paths")).toArray();
    QVERIFY(!paths.isEmpty());
    for (const QJsonValue &p : paths) {
        QCOMPARE(at(p, QStringLiteral("backend.service.name")).toString(), serviceName);
        QCOMPARE(at(p, QStringLiteral("backend.service.port.name")).toString(), servicePort);
    }
    // The uploads' Ingress: the same backend, the server's default upload limit (25 MiB, the
    // ConfigMap does not change it), unbuffered.
    QJsonObject uploads;
    for (const QJsonValue &d : m_files.value(QStringLiteral("ingress.yaml"))) {
        if (at(d, QStringLiteral("metadata.name")).toString() == serviceName + QStringLiteral("-uploads"))
            uploads = d.toObject();
    }
    QVERIFY(!uploads.isEmpty());
    QVERIFY(!at(doc(QStringLiteral("ConfigMap"), QStringLiteral("configmap.yaml")), QStringLiteral("data"))
                 .toObject()
                 .contains(QLatin1String("TM_MAX_UPLOAD_MIB")));
    const QJsonObject notes = at(uploads, QStringLiteral("metadata.annotations")).toObject();
    QCOMPARE(notes.value(QLatin1String("nginx.ingress.kubernetes.io/proxy-body-size")).toString(),
             QStringLiteral("25m"));
    QCOMPARE(notes.value(QLatin1String("nginx.ingress.kubernetes.io/proxy-request-buffering")).toString(),
             QStringLiteral("off"));
    const QJsonValue upload = at(uploads, QStringLiteral("spec.rules.0.http.paths.0"));
    QCOMPARE(at(upload, QStringLiteral("path")).toString(), QStringLiteral("/api/v1/uploads"));
    QCOMPARE(at(upload, QStringLiteral("pathType")).toString(), QStringLiteral("Exact"));
    QCOMPARE(at(upload, QStringLiteral("backend.service.name")).toString(), serviceName);
    QCOMPARE(at(upload, QStringLiteral("backend.service.port.name")).toString(), servicePort);
    QCOMPARE(at(doc(QStringLiteral("PodDisruptionBudget")), QStringLiteral("spec.selector.matchLabels")).toObject(),
             labels);
    const QString deployName = at(deploy, QStringLiteral("metadata.name")).toString();
    for (const char *file : {"hpa.yaml", "hpa-connections.yaml"}) {
        const QJsonObject hpa = doc(QStringLiteral("HorizontalPodAutoscaler"), QLatin1String(file));
        QCOMPARE(at(hpa, QStringLiteral("spec.scaleTargetRef.kind")).toString(), QStringLiteral("Deployment"));
        QCOMPARE(at(hpa, QStringLiteral("spec.scaleTargetRef.name")).toString(), deployName);
        QVERIFY(at(hpa, QStringLiteral("spec.minReplicas")).toInt() >= 2);
    }
}

// Every TM_* key of the ConfigMap, the Secret and the pod's env is an option of `--help`.
void TestK8sManifests::optionsAreTheServers()
{
    const ToolRun help = runTool(ServerProcess::binary(), {QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    QStringList keys;
    for (const QString &k :
         at(doc(QStringLiteral("ConfigMap"), QStringLiteral("configmap.yaml")), QStringLiteral("data"))
             .toObject()
             .keys())
        keys << k;
    for (const QString &k : at(doc(QStringLiteral("Secret")), QStringLiteral("stringData")).toObject().keys())
        keys << k;
    for (const QJsonValue &e :
         at(doc(QStringLiteral("Deployment")), QStringLiteral("spec.template.spec.containers.0.env")).toArray())
        keys << e.toObject().value(QLatin1String("name")).toString();
    QVERIFY(keys.size() >= 7);
    for (const QString &k : keys)
        QVERIFY2(help.out.contains(QByteArray(QByteArray("[") + k.toUtf8() + "]")),
                 qPrintable(k + QStringLiteral(" is not an option")));
}

// The server started with the ConfigMap's values (but a free loopback port and a temporary data
// directory) serves the probe paths and the Ingress paths, and exports the HPA variant's metric.
void TestK8sManifests::probesAndMetricAreReal()
{
    QStringList env;
    const QJsonObject data
        = at(doc(QStringLiteral("ConfigMap"), QStringLiteral("configmap.yaml")), QStringLiteral("data")).toObject();
    for (auto it = data.begin(); it != data.end(); ++it) {
        if (it.key() != QLatin1String("TM_LISTEN") && it.key() != QLatin1String("TM_DATA_DIR"))
            env << it.key() + QLatin1Char('=') + it.value().toString();
    }
    ServerProcess server;
    QVERIFY2(server.start({}, env), qPrintable(server.errorText()));
    QNetworkAccessManager nam;
    const QJsonObject container
        = at(doc(QStringLiteral("Deployment")), QStringLiteral("spec.template.spec.containers.0")).toObject();
    QCOMPARE(at(container, QStringLiteral("readinessProbe.httpGet.path")).toString(), QStringLiteral("/health/ready"));
    QCOMPARE(at(container, QStringLiteral("livenessProbe.httpGet.path")).toString(), QStringLiteral("/health"));
    for (const char *probe : {"readinessProbe", "livenessProbe", "startupProbe"}) {
        const QString path = at(container, QLatin1String(probe) + QStringLiteral(".httpGet.path")).toString();
        QCOMPARE(status(nam, server.url(path)), 200);
    }
    // Ingress paths: routes of the server (not 404): /ws answers 400 without an upgrade.
    const QHash<QString, QString> probeFor {{QStringLiteral("/api"), QStringLiteral("/api/v1/rooms")},
                                            {QStringLiteral("/ws"), QStringLiteral("/ws")},
                                            {QStringLiteral("/health"), QStringLiteral("/health")}};
    for (const QJsonValue &p :
         at(doc(QStringLiteral("Ingress")), QStringLiteral("spec.rules.0.http.paths")).toArray()) {
        const QString path = p.toObject().value(QLatin1String("path")).toString();
        QVERIFY2(probeFor.contains(path), qPrintable(path));
        const int s = status(nam, server.url(probeFor.value(path)));
        QVERIFY2(s != 0 && s != 404, qPrintable(path + QStringLiteral(": ") + QString::number(s)));
    }
    // The custom metric of hpa-connections.yaml and of the adapter's rule is exported.
    const QString metric = at(doc(QStringLiteral("HorizontalPodAutoscaler"), QStringLiteral("hpa-connections.yaml")),
                              QStringLiteral("spec.metrics.0.pods.metric.name"))
                               .toString();
    QVERIFY(!metric.isEmpty());
    QVERIFY(
        at(doc(QStringLiteral("ConfigMap"), QStringLiteral("prometheus-adapter-rules.yaml")), QStringLiteral("data"))
            .toObject()
            .value(QLatin1String("config.yaml"))
            .toString()
            .contains(metric));
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(server.url(QStringLiteral("/metrics")))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(10000));
    const QByteArray metrics = reply->readAll();
    QVERIFY2(metrics.contains(QByteArray("\n" + metric.toUtf8() + " ")), metrics.left(2000).constData());
    QCOMPARE(server.stop(), 0);
}

// terminationGracePeriodSeconds >= preStop's sleep + TM_DRAIN_TIMEOUT_MS + 5 s for the exit.
void TestK8sManifests::gracePeriodCoversDrain()
{
    const QJsonObject spec = at(doc(QStringLiteral("Deployment")), QStringLiteral("spec.template.spec")).toObject();
    const int grace = spec.value(QLatin1String("terminationGracePeriodSeconds")).toInt();
    const QJsonArray preStop = at(spec, QStringLiteral("containers.0.lifecycle.preStop.exec.command")).toArray();
    QCOMPARE(preStop.at(0).toString(), QStringLiteral("sleep"));
    const int sleep = preStop.at(1).toString().toInt();
    const int drainMs = at(doc(QStringLiteral("ConfigMap"), QStringLiteral("configmap.yaml")),
                           QStringLiteral("data.TM_DRAIN_TIMEOUT_MS"))
                            .toString()
                            .toInt();
    QVERIFY(sleep > 0 && drainMs > 0);
    QVERIFY2(grace >= sleep + drainMs / 1000 + 5, qPrintable(QStringLiteral("grace %1 s").arg(grace)));
}

void TestK8sManifests::containerfileAgrees()
{
    QFile f(QStringLiteral(TM_SOURCE_DIR "/packaging/container/Containerfile"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY(text.contains(QLatin1String("\nFROM debian:12\n")));
    const auto expose = QRegularExpression(QStringLiteral("\\nEXPOSE (\\d+)")).match(text);
    const auto user = QRegularExpression(QStringLiteral("\\nUSER (\\d+):(\\d+)")).match(text);
    const auto version = QRegularExpression(QStringLiteral("\\nARG VERSION=(\\S+)")).match(text);
    QVERIFY(expose.hasMatch() && user.hasMatch() && version.hasMatch());
    const QJsonObject spec = at(doc(QStringLiteral("Deployment")), QStringLiteral("spec.template.spec")).toObject();
    QCOMPARE(expose.captured(1).toInt(), at(spec, QStringLiteral("containers.0.ports.0.containerPort")).toInt());
    QCOMPARE(user.captured(1).toInt(), at(spec, QStringLiteral("securityContext.runAsUser")).toInt());
    QCOMPARE(user.captured(2).toInt(), at(spec, QStringLiteral("securityContext.runAsGroup")).toInt());
    // The image tag and the package it installs carry the project's version (cpack's file name).
    QCOMPARE(version.captured(1), QStringLiteral(TM_PROJECT_VERSION));
    QVERIFY(text.contains(QLatin1String("COPY taskmaster-server_${VERSION}-1_amd64.deb")));
    QCOMPARE(at(spec, QStringLiteral("containers.0.image")).toString(),
             QStringLiteral("taskmaster-server:" TM_PROJECT_VERSION));
}

QTEST_GUILESS_MAIN(TestK8sManifests)
#include "tst_k8s_manifests.moc"
