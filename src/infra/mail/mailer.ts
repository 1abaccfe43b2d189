// Sending mail through a small interface, so the report stage does not depend on the SDK.
import nodemailer from 'nodemailer';

/** One message with an HTML body, a text alternative and attachments. */
export interface MailMessage {
  from: string;
  to: readonly string[];
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; content: string; contentType: string }[];
}

/** Something that delivers mail. */
export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string }>;
}

export interface SmtpSettings {
  /** smtp://host:587 (STARTTLS when offered) or smtps://host:465 (TLS). */
  url: string;
  user?: string | undefined;
  password?: string | undefined;
}

/** A Mailer over SMTP with nodemailer; credentials never appear in the URL we keep. */
export function smtpMailer(settings: SmtpSettings): Mailer {
  const url = new URL(settings.url);
  const user = settings.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = settings.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    requireTLS: url.searchParams.get('requireTLS') === 'true',
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    ...(user && { auth: { user, pass: pass ?? '' } }),
  });
  return {
    async send(message) {
      const info = await transport.sendMail({ ...message, to: [...message.to] });
      return { messageId: String(info.messageId) };
    },
  };
}

/** `smtp://mail.example.com:587`, without credentials, for messages. */
export function describeSmtp(urlText: string): string {
  const url = new URL(urlText);
  return `${url.protocol}//${url.host}`;
}
