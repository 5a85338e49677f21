<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AdminPage</name>
    <message>
        <source>%1: %2, %3</source>
        <translation>%1: %2, %3</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Admin</source>
        <translation>Verwaltung</translation>
    </message>
    <message>
        <source>Instance %1, up %2 s</source>
        <translation>Instanz %1, seit %2 s aktiv</translation>
    </message>
    <message>
        <source>Only administrators see this page.</source>
        <translation>Nur Administratoren sehen diese Seite.</translation>
    </message>
    <message>
        <source>WebSocket connections</source>
        <translation>WebSocket-Verbindungen</translation>
    </message>
    <message>
        <source>Messages per second</source>
        <translation>Nachrichten pro Sekunde</translation>
    </message>
    <message>
        <source>Delivery p50 / p95 / p99 (ms)</source>
        <translation>Zustellung p50 / p95 / p99 (ms)</translation>
    </message>
    <message>
        <source>REST cache hit rate</source>
        <translation>REST-Cache-Trefferquote</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>%1 hits / %2 misses since start</source>
        <translation>%1 Treffer / %2 Fehlschläge seit dem Start</translation>
    </message>
    <message>
        <source>Reads: %1 from the replica (%2) · %3 from the primary</source>
        <translation>Lesezugriffe: %1 vom Replikat (%2) · %3 vom Primärserver</translation>
    </message>
    <message>
        <source>up</source>
        <translation>erreichbar</translation>
    </message>
    <message>
        <source>down</source>
        <translation>nicht erreichbar</translation>
    </message>
    <message>
        <source>Users %1 · rooms %2 · messages %3 · projects %4 · tasks %5 · sessions %6 · db pool %7 busy / %8 idle</source>
        <translation>Benutzer %1 · Räume %2 · Nachrichten %3 · Projekte %4 · Aufgaben %5 · Sitzungen %6 · DB-Pool %7 belegt / %8 frei</translation>
    </message>
    <message numerus="yes">
        <source>This client: %n answer(s) not modified (304)</source>
        <translation>
            <numerusform>Dieser Client: %n Antwort unverändert (304)</numerusform>
            <numerusform>Dieser Client: %n Antworten unverändert (304)</numerusform>
        </translation>
    </message>
    <message>
        <source>, %1 KB not downloaded again</source>
        <translation>, %1 KB nicht erneut geladen</translation>
    </message>
</context>
<context>
    <name>AppShell</name>
    <message>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <source>Projects</source>
        <translation>Projekte</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Suche</translation>
    </message>
    <message>
        <source>Admin</source>
        <translation>Verwaltung</translation>
    </message>
    <message>
        <source>Anywhere</source>
        <translation>Überall</translation>
    </message>
    <message>
        <source>Chat, Projects, Search, Admin</source>
        <translation>Chat, Projekte, Suche, Verwaltung</translation>
    </message>
    <message>
        <source>Search messages and tasks</source>
        <translation>Nachrichten und Aufgaben durchsuchen</translation>
    </message>
    <message>
        <source>Open the first to ninth room of the list</source>
        <translation>Ersten bis neunten Raum der Liste öffnen</translation>
    </message>
    <message>
        <source>Open the room above in the list</source>
        <translation>Raum darüber in der Liste öffnen</translation>
    </message>
    <message>
        <source>Open the room below in the list</source>
        <translation>Raum darunter in der Liste öffnen</translation>
    </message>
    <message>
        <source>Write a message in the open room</source>
        <translation>Nachricht im offenen Raum schreiben</translation>
    </message>
    <message>
        <source>Jump to the latest message</source>
        <translation>Zur neuesten Nachricht springen</translation>
    </message>
    <message>
        <source>Show these shortcuts</source>
        <translation>Diese Tastenkürzel zeigen</translation>
    </message>
    <message>
        <source>Next or previous control</source>
        <translation>Nächstes oder vorheriges Element</translation>
    </message>
    <message>
        <source>Press the focused button, room or project</source>
        <translation>Fokussierte Schaltfläche, Raum oder Projekt auslösen</translation>
    </message>
    <message>
        <source>Close a dialog, menu or list</source>
        <translation>Dialog, Menü oder Liste schließen</translation>
    </message>
    <message>
        <source>Composer</source>
        <translation>Eingabefeld</translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation>Nachricht senden</translation>
    </message>
    <message>
        <source>New line</source>
        <translation>Neue Zeile</translation>
    </message>
    <message>
        <source>Complete the @name chosen</source>
        <translation>Gewählten @Namen ergänzen</translation>
    </message>
    <message>
        <source>Choose an @name</source>
        <translation>@Namen wählen</translation>
    </message>
    <message>
        <source>Board</source>
        <translation>Board</translation>
    </message>
    <message>
        <source>Move the focused card to the previous or next column</source>
        <translation>Fokussierte Karte in die vorige oder nächste Spalte verschieben</translation>
    </message>
    <message>
        <source>Edit the focused card</source>
        <translation>Fokussierte Karte bearbeiten</translation>
    </message>
    <message>
        <source>TaskMaster</source>
        <translation>TaskMaster</translation>
    </message>
    <message>
        <source>Current section, Ctrl+%1</source>
        <translation>Aktueller Bereich, Strg+%1</translation>
    </message>
    <message>
        <source>Ctrl+%1</source>
        <translation>Strg+%1</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>Abmelden</translation>
    </message>
    <message>
        <source>Pick a room</source>
        <translation>Raum auswählen</translation>
    </message>
    <message>
        <source>Edit your last message (in the empty composer); Enter saves, Esc cancels</source>
        <translation>Eigene letzte Nachricht bearbeiten (im leeren Eingabefeld); Eingabe speichert, Esc bricht ab</translation>
    </message>
    <message>
        <source>While editing your message: its menu (Edit, Delete)</source>
        <translation>Beim Bearbeiten deiner Nachricht: ihr Menü (Bearbeiten, Löschen)</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <source>Choose a message (Tab to the messages first)</source>
        <translation>Eine Nachricht wählen (zuerst mit Tab zu den Nachrichten)</translation>
    </message>
    <message>
        <source>The menu of your chosen message (Edit, Delete)</source>
        <translation>Das Menü deiner gewählten Nachricht (Bearbeiten, Löschen)</translation>
    </message>
    <message>
        <source>Delete your chosen message (asks first)</source>
        <translation>Deine gewählte Nachricht löschen (mit Rückfrage)</translation>
    </message>
</context>
<context>
    <name>Avatar</name>
    <message>
        <source>%1, online</source>
        <translation>%1, online</translation>
    </message>
    <message>
        <source>%1, offline</source>
        <translation>%1, offline</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>%1, failed: %2</source>
        <translation>%1, fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Uploading %1</source>
        <translation>%1 wird hochgeladen</translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation>%1 entfernen</translation>
    </message>
    <message>
        <source>Attach files</source>
        <translation>Dateien anhängen</translation>
    </message>
    <message>
        <source>Attach files (or drop them here, or paste an image)</source>
        <translation>Dateien anhängen (oder hier ablegen oder ein Bild einfügen)</translation>
    </message>
    <message>
        <source>Write a message</source>
        <translation>Nachricht schreiben</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <source>Enter sends, Shift+Enter starts a new line</source>
        <translation>Eingabe sendet, Umschalt+Eingabe beginnt eine neue Zeile</translation>
    </message>
    <message>
        <source>%1, @%2</source>
        <translation>%1, @%2</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
</context>
<context>
    <name>LoginPage</name>
    <message>
        <source>TaskMaster</source>
        <translation>TaskMaster</translation>
    </message>
    <message>
        <source>Create an account</source>
        <translation>Konto erstellen</translation>
    </message>
    <message>
        <source>Log in to your team</source>
        <translation>Bei deinem Team anmelden</translation>
    </message>
    <message>
        <source>Server, e.g. http://127.0.0.1:8080</source>
        <translation>Server, z. B. http://127.0.0.1:8080</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Serveradresse</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <source>Display name</source>
        <translation>Anzeigename</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <source>Create account</source>
        <translation>Konto erstellen</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>Anmelden</translation>
    </message>
    <message>
        <source>I have an account</source>
        <translation>Ich habe ein Konto</translation>
    </message>
    <message>
        <source>Logging in</source>
        <translation>Anmeldung läuft</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>TaskMaster — %1</source>
        <translation>TaskMaster — %1</translation>
    </message>
    <message>
        <source>TaskMaster</source>
        <translation>TaskMaster</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Dismiss the notice about the saved session</source>
        <translation>Hinweis zur gespeicherten Sitzung schließen</translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <source>New messages</source>
        <translation>Neue Nachrichten</translation>
    </message>
    <message>
        <source>%1, send a direct message</source>
        <translation>%1, Direktnachricht senden</translation>
    </message>
    <message>
        <source>Send a direct message</source>
        <translation>Direktnachricht senden</translation>
    </message>
    <message>
        <source>Message deleted</source>
        <translation>Nachricht gelöscht</translation>
    </message>
    <message>
        <source>Edit message</source>
        <translation>Nachricht bearbeiten</translation>
    </message>
    <message>
        <source>(edited)</source>
        <translation>(bearbeitet)</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>Wird gesendet…</translation>
    </message>
    <message>
        <source>Not sent.</source>
        <translation>Nicht gesendet.</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>Erneut versuchen</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>Verwerfen</translation>
    </message>
    <message>
        <source>Image %1, open</source>
        <translation>Bild %1, öffnen</translation>
    </message>
    <message>
        <source>Download %1, %2</source>
        <translation>%1 herunterladen, %2</translation>
    </message>
    <message>
        <source>Downloading %1</source>
        <translation>%1 wird heruntergeladen</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>Herunterladen</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Bearbeiten</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <source>Delete message?</source>
        <translation>Nachricht löschen?</translation>
    </message>
    <message>
        <source>The message is deleted for everyone in the room. This cannot be undone.</source>
        <translation>Die Nachricht wird für alle im Raum gelöscht. Das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
</context>
<context>
    <name>PageHeader</name>
    <message>
        <source>Back</source>
        <translation>Zurück</translation>
    </message>
</context>
<context>
    <name>ProjectsPage</name>
    <message>
        <source>Projects</source>
        <translation>Projekte</translation>
    </message>
    <message>
        <source>New project</source>
        <translation>Neues Projekt</translation>
    </message>
    <message>
        <source>No projects yet</source>
        <translation>Noch keine Projekte</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Project name</source>
        <translation>Projektname</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Beschreibung</translation>
    </message>
    <message>
        <source>Project description</source>
        <translation>Projektbeschreibung</translation>
    </message>
</context>
<context>
    <name>RoomHeader</name>
    <message>
        <source>Online</source>
        <translation>Online</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message numerus="yes">
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n Mitglied</numerusform>
            <numerusform>%n Mitglieder</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n online</source>
        <translation>
            <numerusform>, %n online</numerusform>
            <numerusform>, %n online</numerusform>
        </translation>
    </message>
    <message>
        <source>Room</source>
        <translation>Raum</translation>
    </message>
    <message>
        <source>Members: %1</source>
        <translation>Mitglieder: %1</translation>
    </message>
    <message>
        <source>Show the members</source>
        <translation>Mitglieder anzeigen</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>Mitglieder</translation>
    </message>
    <message>
        <source>Close the member list</source>
        <translation>Mitgliederliste schließen</translation>
    </message>
    <message>
        <source>Members of %1</source>
        <translation>Mitglieder von %1</translation>
    </message>
    <message>
        <source>Online — %1</source>
        <translation>Online – %1</translation>
    </message>
    <message>
        <source>Offline — %1</source>
        <translation>Offline – %1</translation>
    </message>
    <message>
        <source>%1 (you), %2</source>
        <translation>%1 (du), %2</translation>
    </message>
    <message>
        <source>online</source>
        <translation>online</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>%1, %2: send a direct message</source>
        <translation>%1, %2: Direktnachricht senden</translation>
    </message>
    <message>
        <source>Send %1 a direct message</source>
        <translation>%1 eine Direktnachricht senden</translation>
    </message>
    <message>
        <source>%1 (you)</source>
        <translation>%1 (du)</translation>
    </message>
</context>
<context>
    <name>RoomPage</name>
    <message>
        <source>Room</source>
        <translation type="vanished">Raum</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <source>Loading older messages</source>
        <translation>Ältere Nachrichten werden geladen</translation>
    </message>
    <message>
        <source>Beginning of the room</source>
        <translation>Anfang des Raums</translation>
    </message>
    <message numerus="yes">
        <source>%n unread - jump ↑</source>
        <translation>
            <numerusform>%n ungelesen – springen ↑</numerusform>
            <numerusform>%n ungelesen – springen ↑</numerusform>
        </translation>
    </message>
    <message>
        <source>Jump to the first unread message</source>
        <translation>Zur ersten ungelesenen Nachricht springen</translation>
    </message>
    <message>
        <source>Jump to latest</source>
        <translation>Zur neuesten springen</translation>
    </message>
</context>
<context>
    <name>RoomsPage</name>
    <message>
        <source>Rooms</source>
        <translation>Räume</translation>
    </message>
    <message numerus="yes">
        <source>%n unread</source>
        <translation>
            <numerusform>%n ungelesen</numerusform>
            <numerusform>%n ungelesen</numerusform>
        </translation>
    </message>
    <message>
        <source>Do not disturb</source>
        <translation>Nicht stören</translation>
    </message>
    <message>
        <source>Do not disturb: on (no notifications)</source>
        <translation>Nicht stören: an (keine Benachrichtigungen)</translation>
    </message>
    <message>
        <source>Do not disturb: off</source>
        <translation>Nicht stören: aus</translation>
    </message>
    <message>
        <source>Desktop notifications are not available here</source>
        <translation>Desktop-Benachrichtigungen sind hier nicht verfügbar</translation>
    </message>
    <message>
        <source>New direct message</source>
        <translation>Neue Direktnachricht</translation>
    </message>
    <message>
        <source>New room</source>
        <translation>Neuer Raum</translation>
    </message>
    <message>
        <source>You were mentioned</source>
        <translation>Du wurdest erwähnt</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Du</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>(deleted)</source>
        <translation>(gelöscht)</translation>
    </message>
    <message numerus="yes">
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n Mitglied</numerusform>
            <numerusform>%n Mitglieder</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n online</source>
        <translation>
            <numerusform>, %n online</numerusform>
            <numerusform>, %n online</numerusform>
        </translation>
    </message>
    <message>
        <source>No rooms yet</source>
        <translation>Noch keine Räume</translation>
    </message>
    <message>
        <source>Type a name</source>
        <translation>Namen eingeben</translation>
    </message>
    <message>
        <source>User to message</source>
        <translation>Empfänger</translation>
    </message>
    <message>
        <source>Room name</source>
        <translation>Raumname</translation>
    </message>
</context>
<context>
    <name>SearchPage</name>
    <message>
        <source>Search</source>
        <translation>Suche</translation>
    </message>
    <message>
        <source>Search messages and tasks</source>
        <translation>Nachrichten und Aufgaben durchsuchen</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>Ergebnisse</translation>
    </message>
    <message>
        <source>Task · %1</source>
        <translation>Aufgabe · %1</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Nothing found</source>
        <translation>Nichts gefunden</translation>
    </message>
</context>
<context>
    <name>ShortcutsSheet</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <source>%1 … %2</source>
        <translation>%1 … %2</translation>
    </message>
    <message>
        <source>%1 or %2</source>
        <translation>%1 oder %2</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>Online</source>
        <translation>Online</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <source>Catching up…</source>
        <translation>Hole auf…</translation>
    </message>
    <message>
        <source>Offline, retrying</source>
        <translation>Offline, neuer Versuch</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
</context>
<context>
    <name>TaskBoard</name>
    <message>
        <source>Tasks</source>
        <translation>Aufgaben</translation>
    </message>
    <message numerus="yes">
        <source>%n task(s)</source>
        <translation>
            <numerusform>%n Aufgabe</numerusform>
            <numerusform>%n Aufgaben</numerusform>
        </translation>
    </message>
    <message>
        <source>New task</source>
        <translation>Neue Aufgabe</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>Zuständig</translation>
    </message>
    <message>
        <source>Assignee filter</source>
        <translation>Filter Zuständig</translation>
    </message>
    <message>
        <source>Anyone</source>
        <translation>Alle</translation>
    </message>
    <message>
        <source>Me</source>
        <translation>Ich</translation>
    </message>
    <message>
        <source>Unassigned</source>
        <translation>Niemand</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <source>Priority filter</source>
        <translation>Filter Priorität</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>Alle</translation>
    </message>
    <message>
        <source>Urgent</source>
        <translation>Dringend</translation>
    </message>
    <message>
        <source>High</source>
        <translation>Hoch</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>Mittel</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>Niedrig</translation>
    </message>
</context>
<context>
    <name>TaskCard</name>
    <message>
        <source>%1 priority</source>
        <translation>Priorität %1</translation>
    </message>
    <message>
        <source>assigned to %1</source>
        <translation>zuständig: %1</translation>
    </message>
    <message>
        <source>overdue since %1</source>
        <translation>überfällig seit %1</translation>
    </message>
    <message>
        <source>due %1</source>
        <translation>fällig %1</translation>
    </message>
    <message>
        <source>Left and Right move it, Enter edits it</source>
        <translation>Links und Rechts verschieben sie, Eingabe bearbeitet sie</translation>
    </message>
    <message>
        <source>d MMM</source>
        <comment>a due date: day and short month</comment>
        <translation>d. MMM</translation>
    </message>
    <message>
        <source>changed offline, not sent yet</source>
        <translation>offline geändert, noch nicht gesendet</translation>
    </message>
    <message>
        <source>Not sent yet</source>
        <translation>Noch nicht gesendet</translation>
    </message>
    <message>
        <source>Changed offline, not sent yet</source>
        <translation>Offline geändert, noch nicht gesendet</translation>
    </message>
</context>
<context>
    <name>TaskEditor</name>
    <message>
        <source>Edit task</source>
        <translation>Aufgabe bearbeiten</translation>
    </message>
    <message>
        <source>New task</source>
        <translation>Neue Aufgabe</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Beschreibung</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>Zuständig</translation>
    </message>
    <message>
        <source>Type a name</source>
        <translation>Namen eingeben</translation>
    </message>
    <message>
        <source>Due date</source>
        <translation>Fällig am</translation>
    </message>
    <message>
        <source>YYYY-MM-DD</source>
        <translation>JJJJ-MM-TT</translation>
    </message>
    <message>
        <source>Attachments</source>
        <translation>Anhänge</translation>
    </message>
    <message>
        <source>Take off %1</source>
        <translation>%1 abnehmen</translation>
    </message>
    <message>
        <source>Uploading %1</source>
        <translation>%1 wird hochgeladen</translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation>%1 entfernen</translation>
    </message>
    <message>
        <source>Attach files…</source>
        <translation>Dateien anhängen…</translation>
    </message>
</context>
<context>
    <name>Theme</name>
    <message>
        <source>%1 B</source>
        <translation>%1 B</translation>
    </message>
    <message>
        <source>%1 KB</source>
        <translation>%1 KB</translation>
    </message>
    <message>
        <source>%1 MB</source>
        <translation>%1 MB</translation>
    </message>
    <message>
        <source>Urgent</source>
        <translation>Dringend</translation>
    </message>
    <message>
        <source>High</source>
        <translation>Hoch</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>Mittel</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>Niedrig</translation>
    </message>
    <message>
        <source>To do</source>
        <translation>Zu erledigen</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>In Arbeit</translation>
    </message>
    <message>
        <source>Review</source>
        <translation>Prüfung</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Erledigt</translation>
    </message>
</context>
<context>
    <name>taskmaster::client::AttachmentsController</name>
    <message>
        <source>Cannot read %1</source>
        <translation>%1 kann nicht gelesen werden</translation>
    </message>
    <message>
        <source>%1 is larger than the server takes (%2 MiB)</source>
        <translation>%1 ist größer, als der Server annimmt (%2 MiB)</translation>
    </message>
    <message>
        <source>Cannot write %1</source>
        <translation>%1 kann nicht geschrieben werden</translation>
    </message>
</context>
<context>
    <name>taskmaster::client::ChatNotifier</name>
    <message>
        <source>%1 mentioned you in #%2</source>
        <translation>%1 hat dich in #%2 erwähnt</translation>
    </message>
</context>
<context>
    <name>taskmaster::client::Connection</name>
    <message>
        <source>Your session has expired; please log in again.</source>
        <translation>Deine Sitzung ist abgelaufen; bitte melde dich erneut an.</translation>
    </message>
    <message>
        <source>Your session has ended; please log in again.</source>
        <translation>Deine Sitzung wurde beendet; bitte melde dich erneut an.</translation>
    </message>
    <message>
        <source>The saved session could not be read from the keychain; please log in.</source>
        <translation>Die gespeicherte Sitzung konnte nicht aus dem Schlüsselbund gelesen werden; bitte melde dich an.</translation>
    </message>
    <message>
        <source>No keychain is available, so your session is saved in plain text in %1. Log out to remove it.</source>
        <translation>Kein Schlüsselbund verfügbar: Deine Sitzung ist im Klartext in %1 gespeichert. Melde dich ab, um sie zu entfernen.</translation>
    </message>
    <message>
        <source>Wrong username or password.</source>
        <translation>Falscher Benutzername oder falsches Passwort.</translation>
    </message>
</context>
<context>
    <name>taskmaster::client::RestClient</name>
    <message>
        <source>Cannot reach the server.</source>
        <translation>Der Server ist nicht erreichbar.</translation>
    </message>
    <message>
        <source>The server answered %1.</source>
        <translation>Der Server antwortete %1.</translation>
    </message>
</context>
<context>
    <name>taskmaster::client::TaskBoardController</name>
    <message>
        <source>A task change made offline was not saved: someone changed the task first. Their version is shown.</source>
        <translation>Eine offline gemachte Änderung einer Aufgabe wurde nicht gespeichert: Jemand anderes hat die Aufgabe vorher geändert. Deren Fassung wird angezeigt.</translation>
    </message>
</context>
<context>
    <name>taskmaster::client::TypingIndicator</name>
    <message>
        <source>Someone</source>
        <translation>Jemand</translation>
    </message>
    <message>
        <source>%1 is typing…</source>
        <translation>%1 schreibt…</translation>
    </message>
    <message>
        <source>%1 and %2 are typing…</source>
        <translation>%1 und %2 schreiben…</translation>
    </message>
    <message numerus="yes">
        <source>%n people are typing…</source>
        <translation>
            <numerusform>%n Person schreibt…</numerusform>
            <numerusform>%n Personen schreiben…</numerusform>
        </translation>
    </message>
</context>
</TS>
