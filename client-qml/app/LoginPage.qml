// LoginPage: server address, then log in or create an account.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import TaskMaster.Net
import TaskMaster.Ui

Rectangle {
    id: page
    property Connection connection
    property bool registering: false
    color: Theme.background

    function submit() {
        connection.serverUrl = serverField.text
        if (registering)
            connection.registerAccount(userField.text, passwordField.text, displayField.text)
        else
            connection.login(userField.text, passwordField.text)
    }

    Rectangle {
        anchors.centerIn: parent
        width: Math.min(380, page.width - 32)
        height: form.implicitHeight + 48
        radius: 12
        color: Theme.surface
        border.color: Theme.border

        ColumnLayout {
            id: form
            anchors.fill: parent
            anchors.margins: 24
            spacing: 10

            Label {
                text: qsTr("TaskMaster")
                Accessible.role: Accessible.Heading
                font.pixelSize: 28
                font.bold: true
                color: Theme.accent
                Layout.alignment: Qt.AlignHCenter
            }
            Label {
                text: page.registering ? qsTr("Create an account") : qsTr("Log in to your team")
                color: Theme.textMuted
                Layout.alignment: Qt.AlignHCenter
            }
            TextField {
                id: serverField
                objectName: "serverField"
                Layout.fillWidth: true
                placeholderText: qsTr("Server, e.g. http://127.0.0.1:8080")
                Accessible.name: qsTr("Server address")
                text: page.connection ? page.connection.serverUrl : ""
                inputMethodHints: Qt.ImhUrlCharactersOnly
            }
            TextField {
                id: userField
                objectName: "usernameField"
                Layout.fillWidth: true
                placeholderText: qsTr("Username")
                Accessible.name: placeholderText
                inputMethodHints: Qt.ImhNoAutoUppercase
                onAccepted: passwordField.forceActiveFocus()
            }
            TextField {
                id: displayField
                objectName: "displayNameField"
                visible: page.registering
                Layout.fillWidth: true
                placeholderText: qsTr("Display name")
                Accessible.name: placeholderText
            }
            TextField {
                id: passwordField
                objectName: "passwordField"
                Layout.fillWidth: true
                placeholderText: qsTr("Password")
                // Qt 6.4 reads no name of a password field: the description says what it is.
                Accessible.description: placeholderText
                echoMode: TextInput.Password
                onAccepted: page.submit()
            }
            Label {
                objectName: "loginError"
                Layout.fillWidth: true
                visible: text.length > 0
                text: page.connection ? page.connection.lastError : ""
                color: Theme.danger
                wrapMode: Text.Wrap
            }
            Button {
                objectName: "submitButton"
                Layout.fillWidth: true
                highlighted: true
                enabled: page.connection && !page.connection.busy && userField.text.length > 0 && passwordField.text.length > 0
                text: page.registering ? qsTr("Create account") : qsTr("Log in")
                onClicked: page.submit()
            }
            Button {
                Layout.fillWidth: true
                flat: true
                text: page.registering ? qsTr("I have an account") : qsTr("Create an account")
                onClicked: {
                    page.registering = !page.registering
                    page.connection.clearError()
                }
            }
            BusyIndicator {
                Layout.alignment: Qt.AlignHCenter
                running: page.connection && page.connection.busy
                visible: running
                Accessible.name: qsTr("Logging in")
            }
        }
    }
}
