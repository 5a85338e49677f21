<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>AdminPage</name>
    <message>
        <source>%1: %2, %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Instance %1, up %2 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only administrators see this page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>WebSocket connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Messages per second</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delivery p50 / p95 / p99 (ms)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST cache hit rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 hits / %2 misses since start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reads: %1 from the replica (%2) · %3 from the primary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>down</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Users %1 · rooms %2 · messages %3 · projects %4 · tasks %5 · sessions %6 · db pool %7 busy / %8 idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>This client: %n answer(s) not modified (304)</source>
        <translation>
            <numerusform>This client: %n answer not modified (304)</numerusform>
            <numerusform>This client: %n answers not modified (304)</numerusform>
        </translation>
    </message>
    <message>
        <source>, %1 KB not downloaded again</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AppShell</name>
    <message>
        <source>Chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Anywhere</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chat, Projects, Search, Admin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search messages and tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the first to ninth room of the list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the room above in the list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the room below in the list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a message in the open room</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Jump to the latest message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show these shortcuts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next or previous control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Press the focused button, room or project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close a dialog, menu or list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Composer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New line</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Complete the @name chosen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose an @name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Board</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move the focused card to the previous or next column</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit the focused card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TaskMaster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Current section, Ctrl+%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pick a room</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit your last message (in the empty composer); Enter saves, Esc cancels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>While editing your message: its menu (Edit, Delete)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a message (Tab to the messages first)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The menu of your chosen message (Edit, Delete)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete your chosen message (asks first)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Avatar</name>
    <message>
        <source>%1, online</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, offline</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>%1, failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uploading %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attach files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attach files (or drop them here, or paste an image)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter sends, Shift+Enter starts a new line</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, @%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LoginPage</name>
    <message>
        <source>TaskMaster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Create an account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log in to your team</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server, e.g. http://127.0.0.1:8080</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Username</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Display name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Create account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>I have an account</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Logging in</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>TaskMaster — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TaskMaster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dismiss the notice about the saved session</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <source>New messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, send a direct message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send a direct message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message deleted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(edited)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not sent.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retry</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Discard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image %1, open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download %1, %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Downloading %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete message?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The message is deleted for everyone in the room. This cannot be undone.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PageHeader</name>
    <message>
        <source>Back</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ProjectsPage</name>
    <message>
        <source>Projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No projects yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Project name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Project description</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RoomHeader</name>
    <message>
        <source>Online</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offline</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n member</numerusform>
            <numerusform>%n members</numerusform>
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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Members: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the members</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Members</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close the member list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Members of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Online — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offline — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (you), %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>online</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>offline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, %2: send a direct message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send %1 a direct message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (you)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RoomPage</name>
    <message>
        <source>Messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading older messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Beginning of the room</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n unread - jump ↑</source>
        <translation>
            <numerusform>%n unread - jump ↑</numerusform>
            <numerusform>%n unread - jump ↑</numerusform>
        </translation>
    </message>
    <message>
        <source>Jump to the first unread message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Jump to latest</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RoomsPage</name>
    <message>
        <source>Rooms</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n unread</source>
        <translation>
            <numerusform>%n unread</numerusform>
            <numerusform>%n unread</numerusform>
        </translation>
    </message>
    <message>
        <source>Do not disturb</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not disturb: on (no notifications)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not disturb: off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Desktop notifications are not available here</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New direct message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New room</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You were mentioned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(deleted)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n member</numerusform>
            <numerusform>%n members</numerusform>
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
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type a name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User to message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Room name</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SearchPage</name>
    <message>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search messages and tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Task · %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing found</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ShortcutsSheet</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 … %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 or %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>Online</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Catching up…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offline, retrying</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offline</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TaskBoard</name>
    <message>
        <source>Tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n task(s)</source>
        <translation>
            <numerusform>%n task</numerusform>
            <numerusform>%n tasks</numerusform>
        </translation>
    </message>
    <message>
        <source>New task</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assignee filter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Anyone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Me</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unassigned</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Priority filter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Any</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Urgent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Medium</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TaskCard</name>
    <message>
        <source>%1 priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>assigned to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>overdue since %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>due %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Left and Right move it, Enter edits it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>d MMM</source>
        <comment>a due date: day and short month</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>changed offline, not sent yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not sent yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Changed offline, not sent yet</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TaskEditor</name>
    <message>
        <source>Edit task</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New task</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Priority</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type a name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Due date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>YYYY-MM-DD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attachments</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Take off %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uploading %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attach files…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Theme</name>
    <message>
        <source>%1 B</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 KB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 MB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Urgent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>High</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Medium</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Low</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To do</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In progress</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Review</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>taskmaster::client::AttachmentsController</name>
    <message>
        <source>Cannot read %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is larger than the server takes (%2 MiB)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>taskmaster::client::ChatNotifier</name>
    <message>
        <source>%1 mentioned you in #%2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>taskmaster::client::Connection</name>
    <message>
        <source>Your session has expired; please log in again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your session has ended; please log in again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The saved session could not be read from the keychain; please log in.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No keychain is available, so your session is saved in plain text in %1. Log out to remove it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wrong username or password.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>taskmaster::client::RestClient</name>
    <message>
        <source>Cannot reach the server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server answered %1.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>taskmaster::client::TaskBoardController</name>
    <message>
        <source>A task change made offline was not saved: someone changed the task first. Their version is shown.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>taskmaster::client::TypingIndicator</name>
    <message>
        <source>Someone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is typing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 and %2 are typing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n people are typing…</source>
        <translation>
            <numerusform>%n person is typing…</numerusform>
            <numerusform>%n people are typing…</numerusform>
        </translation>
    </message>
</context>
</TS>
